"""``build(...)``: the alerts package wired up for the composition root.

>>> # runtime = build(settings, city, SystemClock(), bus, registry); runtime.start()
>>> # runtime.intake.submit(events); runtime.service.accept(order_id, "w-001"); runtime.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from alerts.config import AlertsConfig, load_config
from alerts.db import make_engine, reader_factory, session_factory, upgrade
from alerts.intake import AlertIntake
from alerts.notify.fanout import Fanout
from alerts.notify.mqtt import MqttPublisher
from alerts.notify.outbox import OutboxDeliverer
from alerts.notify.webhook import WebhookSender
from alerts.routing import Router
from alerts.scheduler import Scheduler
from alerts.service import WorkOrderService
from alerts.unit import Deps
from alerts.workers import seed_workers
from core.city import City
from core.clock import Clock
from core.events import EventBus
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class AlertsRuntime:
    """Everything the service runs for work orders; ``start()`` then ``stop()``."""

    engine: Engine
    deps: Deps
    service: WorkOrderService
    intake: AlertIntake
    scheduler: Scheduler
    deliverers: dict[str, OutboxDeliverer] = field(default_factory=dict)
    publisher: MqttPublisher | None = None
    webhooks: WebhookSender | None = None

    def start(self) -> None:
        if self.publisher:
            self.publisher.start()
        for d in self.deliverers.values():
            d.start()
        self.scheduler.start()
        self.intake.start()

    def stop(self) -> None:
        """Finish queued alerts, stop the threads, close connections."""
        self.intake.stop()
        self.scheduler.stop()
        for d in self.deliverers.values():
            d.stop()
        if self.publisher:
            self.publisher.stop()
        if self.webhooks:
            self.webhooks.close()
        self.engine.dispose()


def build(
    settings: Settings, city: City, clock: Clock, bus: EventBus, registry: CollectorRegistry | None = None,
    *, mqtt_url: str | None = None, config: AlertsConfig | None = None, migrate: bool = True,
) -> AlertsRuntime:
    """Wire the alerts package: migrations, workers seeded, service, intake, scheduler, notifiers.

    ``mqtt_url`` overrides ``settings.mqtt`` (the composition root passes the embedded
    broker's URL); with neither, MQTT notifications are not queued at all.
    """
    url = settings.db_url
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    cfg = config or load_config(settings.alerts_config)
    broker = mqtt_url or settings.mqtt
    deps = Deps(session_factory(engine), reader_factory(engine), clock, bus, cfg, city, Router(city, cfg.routing),
                Fanout(cfg.notify, mqtt=broker is not None))
    seed_workers(deps)
    rt = AlertsRuntime(engine, deps, WorkOrderService(deps), AlertIntake(deps, registry),
                       Scheduler(deps, registry))
    deps.wake_deadlines = rt.scheduler.wake
    _notifiers(rt, settings, broker, registry)
    return rt


def _notifiers(rt: AlertsRuntime, settings: Settings, broker: str | None, registry: CollectorRegistry | None) -> None:
    """The MQTT publisher, the webhook sender and one outbox deliverer per channel in use."""
    deps, cfg = rt.deps, rt.deps.config
    senders = {}
    if broker:
        pw = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
        rt.publisher = pub = MqttPublisher(broker, f"{settings.mqtt_client_id}-orders", settings.mqtt_username, pw,
                                           str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None)
        senders["mqtt"] = lambda rows: [None if r is None else (r, True)
                                        for r in pub.publish_many([(m.target, m.payload) for m in rows])]
    if cfg.notify.webhooks:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        if not secret:
            log.warning("webhooks configured without webhook_secret: deliveries are unsigned")
        rt.webhooks = hook = WebhookSender(secret)
        senders["webhook"] = lambda rows: [hook.send(m.target, m.payload, m.id) for m in rows]
    for channel, send in senders.items():
        rt.deliverers[channel] = OutboxDeliverer(channel, send, deps.sessions, deps.clock, cfg.notify, registry,
                                                 reader=deps.reader)
    deps.wake_outbox = _waker(rt.deliverers)
    if rt.publisher:
        rt.publisher.on_up = rt.deliverers["mqtt"].retry_now


def _waker(deliverers: dict[str, OutboxDeliverer]) -> Callable[[], None]:
    def wake() -> None:
        for d in deliverers.values():
            d.wake()

    return wake

