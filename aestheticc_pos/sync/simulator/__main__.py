"""Run the simulator on its own: ``python -m aestheticc_pos.sync.simulator [--port N]`` (127.0.0.1 only)."""

from __future__ import annotations

import argparse
import contextlib
import threading

from .server import Simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local GoCardless API simulator (127.0.0.1 only)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    parser.add_argument("--token", default=None, help="only accept this access token (default: any)")
    args = parser.parse_args(argv)
    with Simulator(port=args.port, access_token=args.token) as sim:
        print(f"GoCardless simulator listening on {sim.base_url} (Ctrl+C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
