"""`python -m tests.sim --port P --library FILE | --generate N [--seed S] [--version V] ...`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .capacity import CapacityCurve
from .faults import Faults, real_server_curve
from .generator import PROFILES, generate_profile, generator_key
from .server import Simulator
from .storage import load_library, save_library


def parse_curve(text: str) -> list[list[float]]:
    """`real` or `1:32,2:46,...` -> capacity curve points."""
    if text == "real":
        return real_server_curve()
    try:
        points = [[float(x) for x in pair.split(":", 1)] for pair in text.split(",")]
        CapacityCurve(points)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"bad capacity curve {text!r}: {err}") from err
    return points


def main() -> None:
    """Run a standalone simulator."""
    parser = argparse.ArgumentParser(prog="python -m tests.sim")
    parser.add_argument("--port", type=int, default=2283)
    parser.add_argument("--host", default="127.0.0.1")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--library", type=Path)
    source.add_argument("--generate", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), default="generated", help="with --generate"
    )
    parser.add_argument("--save", type=Path, help="write the library as JSON and continue")
    parser.add_argument("--version", default="3.0.3")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--latency-per-item-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--max-concurrency", type=int, help="workers; the rest queue")
    parser.add_argument(
        "--capacity-curve",
        type=parse_curve,
        help='"real" (a measured 2-core server) or "N:MS,N:MS,..." (latency at N in flight)',
    )
    parser.add_argument("--rate-limit", type=float, help="requests/s before 429")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument(
        "--metadata-delay",
        type=float,
        default=0.5,
        help="seconds from a date write to its re-extraction, which resets tags (the race)",
    )
    parser.add_argument(
        "--no-check-responses",
        action="store_true",
        help="skip validating each answer against the spec (benchmarks: the server's own CPU)",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="record each request's arrival, start and end (GET /__sim/timeline)",
    )
    args = parser.parse_args()
    lib = (
        load_library(args.library)
        if args.library
        else generate_profile(args.profile, args.generate, seed=args.seed)
    )
    if args.save:
        save_library(lib, args.save)
    faults = Faults(
        latency_ms=args.latency_ms,
        latency_per_item_ms=args.latency_per_item_ms,
        jitter_ms=args.jitter_ms,
        max_concurrency=args.max_concurrency,
        capacity_curve=args.capacity_curve,
        rate_limit_per_s=args.rate_limit,
        error_rate=args.error_rate,
        seed=args.seed,
    )
    sim = Simulator(lib, version=args.version, faults=faults, metadata_delay_s=args.metadata_delay)
    sim.check_responses = not args.no_check_responses
    if args.timeline:
        sim.stats.timeline = []
    print(f"url http://{args.host}:{args.port}", flush=True)  # noqa: T201
    print(f"api_key {generator_key(lib)}", flush=True)  # noqa: T201
    sim.run_forever(args.host, args.port)


if __name__ == "__main__":
    main()
