"""Follow-up questions: do they stay in the procedure last talked about, and only they?

A hand-written set of (previous procedure, question) pairs: follow-ups that only make
sense within the previous procedure ("¿y cuánto cuesta?"), changes of subject that must
leave it, and off-topic questions that must be abstained on even with a procedure in
context. Each is answered through the bot's own ``choose_result`` against the index of
``VENTANILLA_KB_INDEX_DIR``, with the calibrated knobs and, for comparison, any others.

    .venv/bin/python -m bench.kb_followups
    .venv/bin/python -m bench.kb_followups --compare 0.05,0.05,0.179   # lexical_weight,temperature,threshold
"""

from __future__ import annotations

import argparse
import sys

FOLLOW_UPS = (
    ("pasaporte-emision", "y cuanto cuesta?"),
    ("pasaporte-emision", "cuanto tarda?"),
    ("documento-identidad-duplicado", "y donde lo hago"),
    ("licencia-conducir-renovacion", "que papeles llevo"),
    ("impuesto-predial", "se puede pagar online?"),
    ("registro-mascotas", "y es gratis?"),
    ("partida-nacimiento", "que horario tienen"),
    ("multas-transito", "puedo pagar en cuotas?"),
    ("habilitacion-comercial", "cuanto demora"),
    ("permiso-construccion", "y cuanto sale"),
    ("seguro-desempleo", "cuanto se cobra"),
    ("beca-estudiantil", "hasta cuando me puedo anotar"),
    ("certificado-residencia", "lo puede sacar otra persona?"),
    ("turno-salud", "y por telefono se puede?"),
    ("poda-arbolado", "cuanto tardan en venir"),
    ("matrimonio-civil-turno", "que necesitamos llevar"),
    ("apostilla", "y sale caro?"),
    ("residuos-voluminosos", "que dias pasan"),
)
SWITCHES = (
    ("pasaporte-emision", "perdi el dni, que hago"),
    ("registro-mascotas", "hay un pozo enorme en mi calle"),
    ("impuesto-predial", "me quede sin laburo, me corresponde algun seguro?"),
    ("turno-salud", "cuanto sale renovar el brevete"),
)
OFF_TOPIC = (
    ("pasaporte-emision", "va a llover mañana?"),
    ("impuesto-predial", "quien gano el partido"),
    ("registro-mascotas", "receta de empanadas"),
    ("multas-transito", "a cuanto esta el dolar"),
    ("turno-salud", "contame un chiste"),
)


def main(argv: list[str] | None = None) -> int:
    from actions.knowledge import choose_result
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import load_index
    from knowledge_base.search import Searcher
    from knowledge_base.settings import SearchSettings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", action="append", default=[], help="lexical_weight,temperature,threshold")
    parser.add_argument("--margin", type=float, default=SearchSettings().followup_margin)
    args = parser.parse_args(argv)
    base = SearchSettings()
    index = load_index(base.index_dir)
    embedder = make_embedder(base.embedder, base.model, threads=base.threads)
    variants = {"calibrated": base}
    for spec in args.compare:
        w, t, th = (float(x) for x in spec.split(","))
        variants[spec] = base.model_copy(update={"lexical_weight": w, "temperature": t, "abstain_threshold": th})
    print("| knobs | follow-ups kept | changes of subject followed | off-topic abstained |")
    print("|---|---|---|---|")
    for label, settings in variants.items():
        searcher = Searcher(index, embedder, settings)
        kept = sum(
            1
            for p, q in FOLLOW_UPS
            if (r := choose_result(searcher, q, p, margin=args.margin)).hits and r.hits[0].procedure_id == p
        )
        left = sum(
            1
            for p, q in SWITCHES
            if (r := choose_result(searcher, q, p, margin=args.margin)).hits and r.hits[0].procedure_id != p
        )
        off = sum(1 for p, q in OFF_TOPIC if choose_result(searcher, q, p, margin=args.margin).abstained)
        print(f"| {label} | {kept}/{len(FOLLOW_UPS)} | {left}/{len(SWITCHES)} | {off}/{len(OFF_TOPIC)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
