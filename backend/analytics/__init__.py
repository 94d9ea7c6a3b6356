"""Analytics (issue 17): Rasa's events without personal data, daily counters, the dashboard's figures.

Events arrive through Rasa's own event broker (connectors/event_broker.py): the embedded
SQL table drained by the backend (``sql_drain``) or RabbitMQ read by ``consumer``; both
record through ``recorder`` (``convert`` decides what an event means); ``queries``
computes the figures the console's dashboard and the public page show.
"""
