"""alerts: incidents -> work orders -> routing -> escalation -> notifications.

Entry points: ``alerts.runtime.build(settings, city, clock, bus, registry)`` returns an
``AlertsRuntime`` (``intake``, ``service``, ``scheduler``, ``outbox``; ``start()``/``stop()``);
``alerts.service.WorkOrderService`` is the only code that changes an order;
``alerts.db`` makes engines and runs the migrations. See docs/alerts.md.
"""
