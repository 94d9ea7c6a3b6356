"""Questions the bot could not answer, and what staff do with them (issue 16's improvement loop).

``models`` (the table), ``masking`` (personal data out before storage), ``store`` (recording and
the editors' reads/writes), ``grouping`` (by meaning), ``handling`` (what a group becomes),
``nlu_export`` (intent corrections as Rasa training data).
"""
