"""The guard's model tier: latency a model rule adds, and model screens per second, against the loopback Llama Guard mock.

    python bench/guard.py --model-tier                                  # writes bench/results/guard_model_tier.json
    python bench/guard.py --model-tier --requests 300 --repeats 1 --out /tmp/t.json   # a quick smoke run

Four processes on this machine: the zero-latency upstream mock, the Llama Guard mock (safehub.testing.mock_llama_guard,
answering `safe` after `--guard-model-delay-ms`, 0 by default so the figure is the tier's own cost), two guards
(`safehub guard serve`, audit on): one with no rules (the gateway alone), one with a single model rule asked about
every request at the input stage (no fast screens, so nothing else differs). Each round sends the same kind of benign
requests from `--clients` concurrent clients at `--rate` requests/s in total, first through the gateway alone, then
through the model tier. Added latency = the tier's percentile minus the gateway's (p50, p99), medians over rounds.
The model call's own latency (p50, p99) in those paced phases is read from the audit (`details.model_screens`). Model screens
per second: the tier guard's saturated throughput (closed loop, one model call per request) and, per core of the
guard's own CPU, 1000 / (its CPU ms per request minus the gateway's): the guard's side of a call, not the model's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import statistics
import tempfile
from pathlib import Path

from common import GuardProcess, mock_server, process_cpu_s, wait_for_quiet_machine

MODEL_RULE = "llama_guard"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def write_config(path: Path, mock_url: str, guard_model_url: str | None, timeout_s: float) -> Path:
    lines = ["models: [mock]", "upstreams:", f"  - spec: openai-compat:mock@{mock_url}", "    max_concurrency: 4096",
             "audit: {enabled: true, flush_interval_s: 1.0}"]
    if guard_model_url is None:
        lines.append("rules: {}")
    else:
        lines += ["rules:", f"  {MODEL_RULE}:", "    action: block",
                  f"    model: {{spec: 'openai-compat:llama-guard3@{guard_model_url}', stage: input, "
                  f"timeout_s: {timeout_s:g}, max_concurrency: 4096}}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def model_call_latencies_ms(db_url: str, windows: list[tuple[dt.datetime, dt.datetime]]) -> list[float]:
    """The model calls' own latencies, from the audit, of requests decided within the paced phases' `windows`."""
    from sqlalchemy import select

    from safehub.store.db import connect
    from safehub.store.schema import guard_decisions

    engine = connect(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(guard_decisions.c.created_at, guard_decisions.c.details)
                                      .where(guard_decisions.c.stage == "input"))
            found = []
            for created_at, details in rows:
                created_at = created_at.replace(tzinfo=None)
                if not any(start <= created_at <= end for start, end in windows):
                    continue
                details = json.loads(details) if isinstance(details, str) else details
                verdict = (details.get("model_screens") or {}).get(MODEL_RULE)
                if verdict is not None:
                    found.append(float(verdict["latency_ms"]))
            return found
    finally:
        engine.dispose()


def run(args, drive, percentile, workload) -> dict:
    """`drive`, `percentile` and `workload` are bench/guard.py's load generator, percentile and benign bodies."""
    rounds: list[dict] = []
    windows: list[tuple[dt.datetime, dt.datetime]] = []  # the tier's paced phases, naive UTC as the audit stores them
    settings = {"clients": args.clients, "timeout_s": args.timeout_s}
    warmup_n, saturation_n = min(400, args.requests), max(args.clients, args.requests // 2)
    with tempfile.TemporaryDirectory(prefix="guard-tier-bench-") as workdir, mock_server(latency_ms=0) as mock_url, \
            mock_server(None, module="safehub.testing.mock_llama_guard", delay_ms=args.guard_model_delay_ms) as model_url:
        work = Path(workdir)
        gateway = GuardProcess(write_config(work / "gateway.yaml", mock_url, None, args.timeout_s),
                               f"sqlite:///{work / 'gateway.db'}")
        tier_db = f"sqlite:///{work / 'tier.db'}"
        try:
            tier = GuardProcess(write_config(work / "tier.yaml", mock_url, model_url, args.timeout_s), tier_db)
        except BaseException:
            gateway.stop()
            raise
        try:
            urls = {"gateway": f"{gateway.base_url}/chat/completions", "tier": f"{tier.base_url}/chat/completions"}
            for url in urls.values():
                asyncio.run(drive(url, workload.take(warmup_n), rate=None, n=warmup_n, **settings))
            for repeat in range(args.repeats):
                waited_s = wait_for_quiet_machine(args.quiet_wait_s) if args.quiet_wait_s > 0 else 0.0
                measured, cpu_ms = {}, {}
                for name, process in (("gateway", gateway), ("tier", tier)):
                    before, began = process_cpu_s(process.process.pid), utc_now()
                    measured[name] = asyncio.run(drive(urls[name], workload.take(args.requests), rate=args.rate,
                                                       n=args.requests, **settings))
                    cpu_ms[name] = (process_cpu_s(process.process.pid) - before) / args.requests * 1000.0
                    if name == "tier":
                        windows.append((began, utc_now()))
                rounds.append({"repeat": repeat, **measured,
                               "added_p50_ms": round(measured["tier"]["p50_ms"] - measured["gateway"]["p50_ms"], 3),
                               "added_p99_ms": round(measured["tier"]["p99_ms"] - measured["gateway"]["p99_ms"], 3),
                               "guard_cpu_ms_per_request": {k: round(v, 3) for k, v in cpu_ms.items()},
                               "model_screen_cpu_ms": round(cpu_ms["tier"] - cpu_ms["gateway"], 3),
                               "waited_for_quiet_s": round(waited_s, 1)})
            saturated = asyncio.run(drive(urls["tier"], workload.take(saturation_n), rate=None, n=saturation_n,
                                          **settings))
        finally:
            tier.stop()
            gateway.stop()
        call_ms = model_call_latencies_ms(tier_db, windows)
    cpu_per_call_ms = statistics.median(r["model_screen_cpu_ms"] for r in rounds)
    return {"rounds": rounds,
            "added_ms": {"p50": round(statistics.median(r["added_p50_ms"] for r in rounds), 3),
                         "p99": round(statistics.median(r["added_p99_ms"] for r in rounds), 3)},
            "model_call_ms": {"n": len(call_ms), "p50": round(percentile(call_ms, 50), 3),
                              "p99": round(percentile(call_ms, 99), 3)},
            "model_screen_cpu_ms_per_call": round(cpu_per_call_ms, 3),
            "model_screens_per_s_per_core": round(1000.0 / cpu_per_call_ms, 1) if cpu_per_call_ms > 0 else None,
            "saturated": saturated, "cpu_count": os.cpu_count()}


def print_report(report: dict) -> None:
    print(f"{'round':<7}{'path':<9}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'answered':>10}{'blocked':>9}{'errors':>8}")
    for r in report["rounds"]:
        for path in ("gateway", "tier"):
            m = r[path]
            print(f"{r['repeat']:<7}{path:<9}{m['requests_per_s']:>8.1f}{m['p50_ms']:>9.2f}{m['p99_ms']:>9.2f}"
                  f"{m['answered']:>10}{m['blocked']:>9}{m['errors']:>8}")
        print(f"{r['repeat']:<7}{'added':<9}{'':>8}{r['added_p50_ms']:>9.2f}{r['added_p99_ms']:>9.2f}   "
              f"guard cpu {r['guard_cpu_ms_per_request']['tier']:.2f} vs {r['guard_cpu_ms_per_request']['gateway']:.2f} "
              "ms/request")
    added, call = report["added_ms"], report["model_call_ms"]
    print(f"model tier added latency (median over rounds): p50 {added['p50']:.2f} ms, p99 {added['p99']:.2f} ms; "
          f"the model call itself (audit, n={call['n']}): p50 {call['p50']:.2f} ms, p99 {call['p99']:.2f} ms "
          f"(mock guard model delay {report['settings']['guard_model_delay_ms']:g} ms)")
    print(f"model screens per second: {report['saturated']['requests_per_s']:.0f}/s saturated (closed loop, "
          f"{report['settings']['clients']} clients); per core of the guard's CPU: "
          f"{report['model_screens_per_s_per_core']}/s ({report['model_screen_cpu_ms_per_call']:.2f} ms per call)")
    print(f"wrote {report['out']}")
