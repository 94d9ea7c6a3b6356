"""Custom Rasa actions, one module per capability (knowledge, cases).

rasa_sdk imports every module of this package to find the actions, so modules
here define classes only and do no work at import time.
"""
