"""What every service runs beside its API: engine, producer, outbox relay, consumer, workers.

A service's ``create_app`` builds one ServiceRuntime and enters ``running()``
in its lifespan. Flags in the settings let a deployment run the API and the
background work in separate processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from shared import clock, deadletters, outbox, poison, scenario_clock
from shared.auth import ops_only_in_production
from shared.clock_routes import clock_router
from shared.db import create_engine, create_sessionmaker, is_sqlite
from shared.errors import install_error_handlers
from shared.http import SecurityHeadersMiddleware
from shared.kafka.admin import ensure_topics
from shared.kafka.consumer import EventConsumer, Subscriptions, dead_letter_topic
from shared.kafka.producer import Producer
from shared.limits import BodyLimits, document_edge_responses
from shared.logging import configure_logging, get_logger
from shared.metrics import (
    DEAD_LETTERS_WAITING,
    OUTBOX_BACKLOG,
    WORKER_ITEMS_PARKED_WAITING,
    HttpMetrics,
    metrics_response,
)
from shared.migrations import upgrade_to_head
from shared.ops import ops_router
from shared.settings import ServiceSettings
from shared.tracing import configure_tracing
from shared.worker import Step, Worker

log = get_logger(__name__)


#: How long shutdown waits for each Kafka client to close.
STOP_TIMEOUT_SECONDS = 10.0


async def _bounded(part: str, stopping: Awaitable[None]) -> None:
    """Wait at most ``STOP_TIMEOUT_SECONDS`` for ``stopping``, then leave it.

    Not ``asyncio.wait_for``: on timeout it cancels and then waits for the cancelled task to finish, so a client
    that does not give way to cancellation (aiokafka leaving a group during a rebalance) would hold shutdown
    for ever.
    """
    task = asyncio.ensure_future(stopping)
    done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_SECONDS)
    if not done:
        task.cancel()
        log.warning("service.stop_timed_out", part=part, seconds=STOP_TIMEOUT_SECONDS)
        return
    task.result()


@dataclass
class WorkerSpec:
    """A service-specific background worker; ``make_step`` gets the runtime once it is up."""

    name: str
    make_step: Callable[[ServiceRuntime], Step]
    poll_interval: float = 2.0


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    service: str
    migrations: str
    subscriptions: Subscriptions
    produces_topics: tuple[str, ...] = ()
    workers: list[WorkerSpec] = field(default_factory=list)
    #: Runs after migrations, before the background work starts (e.g. seeding development data).
    on_start: Callable[[ServiceRuntime], Awaitable[None]] | None = None
    #: Sets the service's business gauges from its database (COUNT queries) when /metrics is read, so the
    #: statutory dashboard is right after a restart, in every process of the service.
    refresh_metrics: Callable[[AsyncSession], Awaitable[None]] | None = None
    #: Handle the partitions of one topic side by side (``EventConsumer``): for a service whose handlers of two
    #: different cases share no rows. Never on SQLite (one writer).
    concurrent_partitions: bool = False
    #: Seconds the outbox relay waits once woken, to publish the events committed just after in the same batch:
    #: for a service whose events no one waits for to the millisecond (0: publish at once).
    relay_gather_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.engine: AsyncEngine = create_engine(self.settings.database_url)
        self._workers: dict[str, Worker] = {}
        self.sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(
            self.engine, source=f"/send-mediation/{self.service}",
            wakers={}, settings=self.settings,  # wakers are filled when the workers start
        )
        self.producer = Producer(self.settings.kafka_bootstrap_servers, client_id=self.service)
        self.consumer: EventConsumer | None = None
        self.clock_follower: scenario_clock.ScenarioClockFollower | None = None
        self._handling: EventConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        #: What a worker opens for the service's lifetime (an HTTP client, say): closed on shutdown, after the
        #: tasks that use it have stopped.
        self.resources = contextlib.AsyncExitStack()

    @property
    def _wakers(self) -> dict[str, Callable[[], None]]:
        wakers: dict[str, Callable[[], None]] = self.sessionmaker.kw["info"]["wakers"]
        return wakers

    def event_handling(self) -> EventConsumer:
        """The consumer's handler path (for re-driving dead letters), also where this process consumes nothing."""
        if self.consumer is not None:
            return self.consumer
        if self._handling is None:
            settings = self.settings
            self._handling = EventConsumer(
                service=self.service, bootstrap_servers=settings.kafka_bootstrap_servers,
                sessionmaker=self.sessionmaker, subscriptions=self.subscriptions, producer=self.producer,
                namespace=settings.kafka_namespace)
        return self._handling

    def wake(self, worker: str) -> None:
        if worker in self._workers:
            self._workers[worker].wake()

    def wake_all(self) -> None:
        """The clock moved: every worker re-checks what has fallen due."""
        for worker in self._workers.values():
            worker.wake()

    async def _follow_scenario_clock(self, name: str) -> None:
        settings = self.settings
        await scenario_clock.ensure_topic(settings.kafka_bootstrap_servers, namespace=settings.kafka_namespace)
        self.clock_follower = scenario_clock.ScenarioClockFollower(
            settings.kafka_bootstrap_servers, namespace=settings.kafka_namespace, name=name)
        await self.clock_follower.start()
        self._spawn(self.clock_follower.run(), "scenario-clock")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceRuntime]:
        settings = self.settings
        if settings.migrate_on_start:
            await asyncio.to_thread(upgrade_to_head, self.migrations, settings.database_url)
        if settings.kafka_create_topics:
            topics = {*self.produces_topics, dead_letter_topic(self.service)}
            topics.update(model.topic for model in self.subscriptions)
            await ensure_topics(settings.kafka_bootstrap_servers, {settings.kafka_namespace + t for t in topics},
                                partitions=settings.kafka_topic_partitions)
        if settings.scenario_clock:
            await self._follow_scenario_clock(settings.scenario_clock)
        stop_listening = clock.CLOCK.on_change(self.wake_all)
        try:
            if self.on_start is not None:
                await self.on_start(self)
            await self.producer.start()
            if settings.run_workers:
                relay = Worker(
                    outbox.RELAY,
                    lambda: outbox.publish_pending(self.sessionmaker, self.producer, service=self.service,
                                                   namespace=settings.kafka_namespace,
                                                   max_tries=settings.poison_max_tries,
                                                   retry_seconds=settings.poison_retry_seconds),
                    service=self.service, poll_interval=settings.outbox_poll_interval_seconds,
                    stuck_after=settings.worker_stuck_seconds, gather_seconds=self.relay_gather_seconds,
                )
                self._start_worker(relay)
                for spec in self.workers:
                    self._start_worker(Worker(spec.name, spec.make_step(self), service=self.service,
                                              poll_interval=spec.poll_interval,
                                              stuck_after=settings.worker_stuck_seconds))
            if settings.run_consumer and self.subscriptions:
                self.consumer = EventConsumer(
                    service=self.service, bootstrap_servers=settings.kafka_bootstrap_servers,
                    sessionmaker=self.sessionmaker, subscriptions=self.subscriptions, producer=self.producer,
                    max_attempts=settings.consumer_max_attempts, retry_backoff=settings.consumer_retry_backoff_seconds,
                    namespace=settings.kafka_namespace,
                    concurrent_partitions=self.concurrent_partitions and not is_sqlite(self.engine),
                )
                await self.consumer.start()
                self._spawn(self.consumer.run(), "consumer")
            log.info("service.started", workers=sorted(self._workers), consumes=self.consumer.topics if self.consumer else [])
            yield self
        finally:
            stop_listening()
            for task in self._tasks:
                task.cancel()
            if self._tasks:
                _, stragglers = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_SECONDS)
                if stragglers:  # cancelled, but still finishing something: shutdown goes on without them
                    log.warning("service.tasks_still_stopping", count=len(stragglers), seconds=STOP_TIMEOUT_SECONDS)
            # With the broker away, aiokafka's stop() would wait for it for ever (the producer flushes, the
            # consumer leaves its group): bound each, since the outbox and the uncommitted offsets make it safe.
            if self.clock_follower is not None:
                await _bounded("scenario-clock", self.clock_follower.stop())
            if self.consumer is not None:
                await _bounded("consumer", self.consumer.stop())
            await _bounded("producer", self.producer.stop())
            await self.resources.aclose()
            await self.engine.dispose()
            log.info("service.stopped")

    def _start_worker(self, worker: Worker) -> None:
        self._workers[worker.name] = worker
        self._wakers[worker.name] = worker.wake
        self._spawn(worker.run(), worker.name)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service.task_crashed", task=name)
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=f"{self.service}:{name}"))

    async def check_ready(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        try:
            await self.producer.ping()
            checks["kafka"] = "ok"
        except Exception as exc:
            checks["kafka"] = f"unavailable: {type(exc).__name__}"
        for name in self.stopped_tasks():
            checks[name] = "stopped"
        return checks

    def workers_detail(self) -> dict[str, dict[str, object]]:
        """Each worker's status (``ok`` or ``stuck: ...``) and how long ago its last step worked."""
        return {name: worker.detail() for name, worker in sorted(self._workers.items())}

    def stopped_tasks(self) -> list[str]:
        return [task.get_name() for task in self._tasks if task.done()]


def operations_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers and its background tasks run",
                responses={503: {"description": "A background task (consumer, relay, worker) has stopped"}})
    async def healthz() -> JSONResponse:
        stopped = runtime.stopped_tasks()
        if stopped:  # restart me: a dead consumer or relay would leave events unhandled forever
            return JSONResponse({"status": "unhealthy", "service": runtime.service, "stopped": stopped},
                                status_code=503)
        return JSONResponse({"status": "ok", "service": runtime.service})

    @router.get(
        "/readyz",
        summary="Readiness: database reachable, background tasks running (Kafka and stuck workers are reported, "
                "not required)",
        responses={503: {"description": "The database is unreachable or a background task stopped"}},
    )
    async def readyz() -> JSONResponse:
        checks = await runtime.check_ready()
        # Kafka is reported, not required: while the broker is away the API still takes requests into the
        # outbox, and the backlog shows in metrics and alerts. Taking the pods out of service would not help.
        ok = all(value == "ok" for name, value in checks.items() if name != "kafka")
        if ok:
            async with runtime.sessionmaker() as session:
                OUTBOX_BACKLOG.labels(runtime.service).set(await outbox.backlog(session))
        # A stuck worker (failing, not for an outage, past worker_stuck_seconds) is reported, not a reason to take
        # the API out of service: "degraded", with the worker named, and the worker_stuck metric raises an alert.
        workers = runtime.workers_detail()
        stuck = sorted(name for name, detail in workers.items() if detail["status"] != "ok")
        status = "unavailable" if not ok else "degraded" if stuck else "ok"
        body: dict[str, object] = {"status": status, "checks": checks, "workers": workers}
        if stuck:
            body["stuck_workers"] = stuck
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics (in production: an ops bearer token, scope ops:read)",
                response_class=Response, dependencies=[Depends(ops_only_in_production)])
    async def metrics() -> Response:
        async with runtime.sessionmaker() as session:
            OUTBOX_BACKLOG.labels(runtime.service).set(await outbox.backlog(session))
            DEAD_LETTERS_WAITING.labels(runtime.service).set(await deadletters.waiting(session))
            if runtime.refresh_metrics is not None:
                await runtime.refresh_metrics(session)
            parked = await poison.parked_count(session)
        for name in {*parked, *runtime.workers_detail()}:
            WORKER_ITEMS_PARKED_WAITING.labels(runtime.service, name).set(parked.get(name, 0))
        return metrics_response()

    return router


def build_app(runtime: ServiceRuntime, *, title: str, description: str, version: str = "1.0.0",
              openapi_tags: list[dict[str, str]] | None = None, union_tags: frozenset[str] = frozenset()) -> FastAPI:
    """A FastAPI app with the lifespan, error handlers, metrics and health routes every service has."""
    configure_logging(runtime.service, runtime.settings.log_level)
    configure_tracing(runtime.service)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            app.state.runtime = runtime
            yield

    production = runtime.settings.environment == "production"
    # Production serves no Swagger UI or ReDoc (they load from a third-party CDN) and its OpenAPI document only
    # to operations (below); contracts are published from the repository instead.
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan,
                  openapi_tags=openapi_tags, docs_url=None if production else "/docs",
                  redoc_url=None if production else "/redoc", openapi_url=None if production else "/openapi.json")
    app.state.runtime = runtime
    if production:
        @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(ops_only_in_production)])
        async def openapi_for_operations() -> JSONResponse:
            return JSONResponse(app.openapi())
    app.add_middleware(SecurityHeadersMiddleware, behind_tls=runtime.settings.behind_tls)
    install_error_handlers(app, union_tags=union_tags)
    app.add_middleware(HttpMetrics, service=runtime.service)
    app.add_middleware(BodyLimits)  # outermost: size, depth and NUL limits before anything reads the body
    openapi = app.openapi
    app.openapi = lambda: document_edge_responses(openapi())  # type: ignore[method-assign]
    app.include_router(operations_router(runtime))
    app.include_router(clock_router(runtime))
    app.include_router(ops_router(runtime))
    # A server span per request (not for probes and scrapes); events recorded in it carry its traceparent. No
    # child span per ASGI receive and send: they said nothing a server span does not, and cost a span each.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])
    return app
