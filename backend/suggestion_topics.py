"""Which topic a citizen's suggestion is about, by keywords (deterministic and explainable to staff)."""

from __future__ import annotations

import textnorm

# Topic -> stems looked for in the accent-free, lower-cased text. The first topic with
# the most matches wins; "otros" when nothing matches.
TOPICS: dict[str, tuple[str, ...]] = {
    "transporte": (
        "colectivo",
        "micro",
        "bus",
        "omnibus",
        "transporte",
        "subte",
        "tren",
        "parada",
        "frecuencia",
        "linea ",
    ),
    "transito": (
        "semaforo",
        "transito",
        "velocidad",
        "estacionar",
        "estacionamiento",
        "senaliz",
        "ciclovia",
        "bicis",
        "bicicleta",
        "calle",
        "esquina",
    ),
    "alumbrado": ("luz", "luces", "luminaria", "ilumin", "alumbrado", "farol"),
    "limpieza": ("basura", "tacho", "contenedor", "recicla", "residuo", "limpieza", "barrido", "reciclaje"),
    "espacios_verdes": ("plaza", "parque", "arbol", "verde", "huerta", "bancos", "juegos", "bebedero", "fuente"),
    "seguridad": ("seguridad", "camara", "policia", "robo", "patrull"),
    "salud": ("salud", "hospital", "guardia", "vacuna", "medic", "sala de primeros"),
    "educacion": ("escuela", "educacion", "taller", "curso", "biblioteca", "jardin"),
    "cultura_deporte": (
        "cultura",
        "cine",
        "concierto",
        "festival",
        "musica",
        "deporte",
        "pileta",
        "feria",
        "recital",
        "teatro",
    ),
    "atencion_tramites": (
        "tramite",
        "turno",
        "horario",
        "atencion",
        "oficina",
        "sabado",
        "ventanilla",
        "fila",
        "pago",
        "tarjeta",
        "efectivo",
        "mercado pago",
    ),
    "servicios_digitales": (
        "web",
        "pagina",
        "app",
        "online",
        "internet",
        "wifi",
        "whatsapp",
        "digital",
        "asistente",
        "chat",
        "mensaje",
        "sms",
        "videollamada",
    ),
    "accesibilidad": ("rampa", "silla", "ruedas", "accesib", "inclusiv", "discapacidad", "ciego", "sordo"),
}
OTHER_TOPIC = "otros"
TOPIC_LABELS = {
    "transporte": "Transporte público",
    "transito": "Tránsito y calles",
    "alumbrado": "Alumbrado",
    "limpieza": "Limpieza y residuos",
    "espacios_verdes": "Plazas y espacios verdes",
    "seguridad": "Seguridad",
    "salud": "Salud",
    "educacion": "Educación",
    "cultura_deporte": "Cultura y deporte",
    "atencion_tramites": "Atención y trámites",
    "servicios_digitales": "Servicios digitales",
    "accesibilidad": "Accesibilidad",
    OTHER_TOPIC: "Otros temas",
}


def classify_topic(text: str) -> str:
    """The topic of a suggestion, by keywords (deterministic and explainable to staff)."""
    plain = f" {textnorm.plain(text)} "
    best, best_hits = OTHER_TOPIC, 0
    for topic, stems in TOPICS.items():
        hits = sum(1 for stem in stems if stem in plain)
        if hits > best_hits:
            best, best_hits = topic, hits
    return best
