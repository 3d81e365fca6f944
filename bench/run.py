"""AgentMem GraphQL benchmark: ingest, relations and read latency over real HTTP.

Run: ``.venv/bin/python bench/run.py [--memories 10000] [--agents 20]
[--relations-per-memory 1] [--requests 300] [--concurrency 4]
[--data-dir DIR] [--url URL] [--json OUT]``

Without ``--url`` it starts its own ``agentmem serve`` process on a fresh data
folder (the embedded default) and stops it at the end; with ``--url`` it seeds
into and measures an already running server. Steps:

1. the embedder alone, in this process (texts/s for batches of 100), the bound
   that ingest through the API can approach but not pass;
2. seeding through the API: agents, then the memories with ``addMemories``
   in batches (the ingest benchmark), then ``relate`` mutations;
3. read scenarios over keep-alive HTTP with ``--concurrency`` closed-loop
   callers, each after a warm-up of ``--warmup`` requests that is not counted.

It prints a table (latencies in ms, measured client-side) and the targets, and
exits non-zero if seeding met any error. Client and server share the machine's
CPUs when the benchmark starts its own server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import corpus, scenarios, seed  # noqa: E402
from bench.load import GraphQLClient  # noqa: E402
from bench.report import Report, as_json, render  # noqa: E402
from bench.stats import Summary  # noqa: E402
from graph.embedding import create_embedder  # noqa: E402
from tests.e2e.server import ServerProcess  # noqa: E402
from tests.support import BACKEND_SERVERS  # noqa: E402


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _cpu_model() -> str:
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _rss_mb(pid: int) -> float | None:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


async def bench_embedder(texts: Sequence[str], batch: int = 100, limit: int = 2000) -> Summary:
    """Texts/s of ``create_embedder("minilm")`` on batches of ``batch`` (one
    untimed warm-up batch first, which also loads the model)."""
    embedder = create_embedder("minilm")
    try:
        await embedder.embed(list(texts[:batch]))
        chunks = [list(texts[i : i + batch]) for i in range(0, min(len(texts), limit), batch)]
        latencies: list[float] = []
        began = time.perf_counter()
        for chunk in chunks:
            start = time.perf_counter()
            await embedder.embed(chunk)
            latencies.append(time.perf_counter() - start)
        elapsed = time.perf_counter() - began
    finally:
        await embedder.close()
    units = sum(len(c) for c in chunks)
    return Summary.of(f"minilm embed, batch {batch}", latencies, elapsed, units=units, unit="txt")


async def seed_and_measure(
    url: str, specs: Sequence[corpus.MemorySpec], args: argparse.Namespace, report: Report
) -> None:
    """Seed the server at ``url`` with ``specs`` and run every read scenario against it."""
    client = GraphQLClient(url, connections=max(args.concurrency, args.ingest_concurrency))
    try:
        tag = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        _progress(f"creating {args.agents} agents")
        agent_ids, agents_line = await seed.create_agents(client, args.agents, tag)
        _progress(f"ingesting {len(specs)} memories in batches of {args.batch}")
        memory_ids, ingest_line = await seed.ingest(
            client, specs, agent_ids, args.batch, args.ingest_concurrency
        )
        report.seeding += [agents_line, ingest_line]
        by_agent: list[list[str]] = [[] for _ in agent_ids]
        for spec, memory_id in zip(specs, memory_ids, strict=True):
            by_agent[spec.agent].append(memory_id)
        plan = seed.plan_relations(by_agent, args.relations_per_memory, seed=args.seed)
        if plan:
            _progress(f"adding {len(plan)} relations")
            report.seeding.append(await seed.relate_all(client, plan, args.concurrency))
        report.facts["relations"] = len(plan)
        waited = await seed.wait_until_searchable(client, memory_ids[-1], specs[-1].content)
        report.facts["index_catch_up_s"] = round(waited, 2)
        total = args.requests + args.warmup
        work = scenarios.Workload(
            memory_ids=memory_ids,
            agent_ids=agent_ids,
            queries=corpus.queries(max(300, 3 * total)),
            requests=args.requests,
            concurrency=args.concurrency,
            warmup=args.warmup,
            serial=not args.no_serial,
        )
        results = await scenarios.measure_all(client, work, lambda n: _progress(f"measuring {n}"))
        report.reads = results.lines
        report.first_errors = results.first_errors
    finally:
        await client.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=(__doc__ or "").splitlines()[0]
    )
    add = parser.add_argument
    add("--memories", type=int, default=10_000, help="memories to ingest (default 10000)")
    add("--agents", type=int, default=20, help="agents the memories belong to (default 20)")
    add(
        "--relations-per-memory",
        type=float,
        default=1.0,
        help="relations per memory: FOLLOWS chains plus random SUPPORTS/CAUSES (default 1)",
    )
    add("--requests", type=int, default=300, help="timed requests per scenario (default 300)")
    add("--concurrency", type=int, default=4, help="concurrent callers (default 4)")
    add("--warmup", type=int, default=20, help="untimed requests per scenario (default 20)")
    add("--batch", type=int, default=100, help="memories per addMemories request (default 100)")
    add("--ingest-concurrency", type=int, default=1, help="concurrent ingest requests (default 1)")
    add("--seed", type=int, default=20240601, help="corpus random seed")
    add("--data-dir", type=Path, help="data folder for the server started here (must be empty)")
    add(
        "--backend",
        choices=sorted(BACKEND_SERVERS),
        default="embedded",
        help="backend set of the server started here; server sets read AGENTMEM_* from the"
        ' environment (eval "$(deploy/local/services up)")',
    )
    add("--url", help="benchmark this running server (e.g. http://127.0.0.1:8000/graphql)")
    add("--json", type=Path, metavar="OUT", help="also write the figures as JSON to OUT")
    add("--skip-embedder", action="store_true", help="skip the in-process embedder line")
    add(
        "--no-serial",
        action="store_true",
        help="skip the 1-caller repeats of the three latency-target scenarios",
    )
    return parser


async def main_async(args: argparse.Namespace) -> int:
    facts: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "memories": args.memories,
        "agents": args.agents,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "batch": args.batch,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    report = Report(facts)
    specs = corpus.memories(args.memories, args.agents, seed=args.seed)
    if not args.skip_embedder:
        _progress("timing the embedder alone")
        report.embedder = await bench_embedder([s.content for s in specs])

    server: ServerProcess | None = None
    own_dir: Path | None = None
    finished = False
    try:
        if args.url:
            url = args.url
            facts["server"] = f"external, {url}"
        else:
            if args.data_dir is None:
                own_dir = Path(tempfile.mkdtemp(prefix="agentmem-bench-"))
                data_dir = own_dir / "data"
            else:
                data_dir = args.data_dir.resolve()
                if data_dir.exists() and any(data_dir.iterdir()):
                    print(f"bench: --data-dir {data_dir} is not empty", file=sys.stderr)
                    return 2
            pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
            server = ServerProcess(data_dir, args.backend)
            server.env["PYTHONPATH"] = pythonpath
            # One client at full speed is what per-principal rate limits stop;
            # measure the server, not the limiter (unless the caller sets it).
            server.env.setdefault("AGENTMEM_RATE_LIMITS", "off")
            server.log = data_dir.parent / f"{data_dir.name}-server-{server.port}.log"
            _progress(f"starting a server on {data_dir} (log {server.log})")
            server.start(timeout=120)
            url = server.url
            facts["server"] = f"own process on {url}, embedded store in {data_dir}"
        began = time.perf_counter()
        await seed_and_measure(url, specs, args, report)
        facts["wall_s"] = round(time.perf_counter() - began, 1)
        facts["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        if server is not None and server.process is not None:
            rss = _rss_mb(server.process.pid)
            size = _du_mb(server.data_dir)
            facts["server_rss_mb"] = None if rss is None else round(rss, 1)
            facts["data_dir_mb"] = round(size, 1)
            facts["server"] += f" (RSS {rss or 0:.0f} MB, data {size:.0f} MB at the end)"
        finished = True
    except seed.SeedError as exc:
        print(f"bench: seeding failed: {exc}", file=sys.stderr)
        if server is not None:
            print(f"bench: server log: {server.log}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        if own_dir is not None and finished:
            shutil.rmtree(own_dir, ignore_errors=True)
        elif own_dir is not None:
            print(f"bench: kept {own_dir} (data and server log) for inspection", file=sys.stderr)

    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(as_json(report), indent=2) + "\n")
        _progress(f"wrote {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if min(args.memories, args.agents, args.requests, args.concurrency, args.batch) < 1:
        print("bench: counts must be at least 1", file=sys.stderr)
        return 2
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
