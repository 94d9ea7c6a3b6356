"""What the channels themselves say to citizens, in one place (plain Spanish, «usted»).

These are replies the channel gives without asking the bot: to messages it cannot
read (audio, photos, stickers...), to edits, and to buttons that expired.
"""

from __future__ import annotations

ONLY_TEXT = "Por ahora solo puedo leer mensajes de texto. ¿Me escribe su consulta, por favor?"
NO_AUDIO = "Disculpe, todavía no puedo escuchar audios. ¿Me escribe su consulta, por favor?"
EDITED = (
    "Vi que editó un mensaje, pero no puedo tener en cuenta los cambios. "
    "Si quiere, escríbalo de nuevo como un mensaje nuevo."
)
UNREADABLE = "Disculpe, no pude leer ese mensaje. ¿Me escribe su consulta con otras palabras?"
EXPIRED_OPTION = (
    "Esa opción ya no está disponible. ¿Me escribe su consulta o elige una opción de un mensaje más reciente?"
)
DEFAULT_BUTTON_PROMPT = "Elija una opción:"
LIST_BUTTON_LABEL = "Ver opciones"
LOCATION_PREFIX = "Ubicación compartida"
TOO_FAST = (
    "Está enviando muchos mensajes seguidos. Espere unos segundos y vuelva a escribirme, "
    "por favor: así puedo responderle bien."
)
BUSY = "En este momento estoy atendiendo a muchas personas. Espere un minuto y vuelva a escribirme, por favor."
INVALID_REQUEST = "No pude leer ese mensaje. Envíe un objeto JSON con «sender» y «message» de texto."
ACTIONS_UNAVAILABLE = (
    "Disculpe, tengo un problema técnico y no puedo completar eso ahora. "
    "Vuelva a intentarlo en unos minutos; si es urgente, puede llamar o acercarse a la oficina de atención."
)
