"""Summarise py-spy's collapsed stacks (`py-spy record -f raw`): the functions with the
largest inclusive share of samples, and the largest self share.

    uv run python -m bench.stacks profile.txt [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import re

_FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m["file"]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        path = path.partition(marker)[2] or path
    return f"{m['func']} ({path})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--callees", help="also break down this function's time by the functions it calls")
    args = parser.parse_args()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    callees: collections.Counter[str] = collections.Counter()
    total = 0
    with open(args.file) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            n = int(count)
            total += n
            frames = [_name(fr) for fr in stack.split(";")[1:]]  # the first is the thread
            for name in set(frames):
                inclusive[name] += n
            if frames:
                own[frames[-1]] += n
            if args.callees:
                below = [f for i, f in enumerate(frames[:-1]) if args.callees in f and args.callees not in frames[i + 1]]
                for i, f in enumerate(frames[:-1]):
                    if args.callees in f and args.callees not in frames[i + 1]:
                        callees[frames[i + 1]] += n
                        break
                if not below and frames and args.callees in frames[-1]:
                    callees["(self)"] += n
    print(f"{total} samples")
    print("inclusive:")
    for name, n in inclusive.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    if args.callees:
        print(f"callees of {args.callees}:")
        for name, n in callees.most_common(args.top):
            print(f"  {100 * n / total:5.1f}%  {name}")
    print("self:")
    for name, n in own.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
