#!/usr/bin/env python3
"""Accuracy of the figure extractor (`claimtrail extract`) beside quantulum3, on one set.

The set has two parts:
  * the project's own sentences, generated here from templates with fixed seeds, each with
    the mentions it must yield (value, range, unit, qualifier), and traps that must yield no
    quantity (years, dates, ordinals, list numbers, phone numbers, "COVID-19", "H-2B");
  * the five articles of ../shared/corpus, whose expected mentions are recorded in
    benches/statistics/corpus-gold.json as offsets into the files (never their prose).

For each part it prints precision, recall and F1 per field (value, unit, qualifier, range),
for value + unit together and for the whole mention, for claimtrail and for quantulum3 run on
the same texts. A predicted mention is paired with a gold one whose span it overlaps.

Usage: scripts/accuracy.py PATH/TO/claimtrail   (scripts/bench-accuracy.sh builds and runs it)
"""

import json
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
GOLD = ROOT / "benches" / "statistics" / "corpus-gold.json"

# ---------------------------------------------------------------------------------------------
# The project's set: (text, [gold mentions]); a gold mention is (start, end, value, high,
# unit, qualifier) with values as Fractions and units as "USD", "EUR", "GBP", "MXN",
# "percent", "percentage_points" or "count".

FRAMES = [
    "The ministry said {} was spent last year.",
    "According to the central bank, {} went to rural areas.",
    "Officials counted {} in the region this spring.",
    "A report by the development bank put the figure at {}.",
    "Critics argued that {} was far too little.",
    "The survey found {} among the respondents.",
    "Data from the statistics office show {} in the first quarter.",
    "By then, {} had already been committed, the minister said.",
]

QUALIFIERS = [
    ("", "exact"), ("about ", "approximate"), ("around ", "approximate"),
    ("roughly ", "approximate"), ("nearly ", "approximate"), ("almost ", "approximate"),
    ("some ", "approximate"), ("an estimated ", "approximate"), ("more than ", "lower_bound"),
    ("at least ", "lower_bound"), ("over ", "lower_bound"), ("fewer than ", "upper_bound"),
    ("less than ", "upper_bound"), ("up to ", "upper_bound"),
]


def money(rng):
    """A figure in one of the written forms of money, with its value and currency."""
    n = rng.choice(["4", "19", "2.1", "310", "1.5", "700", "45", "6.25"])
    v = Fraction(n)
    forms = [
        (f"${n} billion", v * 10**9, "USD"), (f"${n}bn", v * 10**9, "USD"),
        (f"US${n} million", v * 10**6, "USD"), (f"{n} billion dollars", v * 10**9, "USD"),
        (f"${n}\nmillion", v * 10**6, "USD"), (f"€{n} million", v * 10**6, "EUR"),
        (f"£{n}m", v * 10**6, "GBP"), (f"{n} million pesos", v * 10**6, "MXN"),
        (f"${n}", v, "USD"), (f"${n} thousand", v * 10**3, "USD"),
    ]
    return rng.choice(forms)


def share(rng):
    n = rng.choice(["15", "2.7", "40", "0.3", "99", "3.5", "61"])
    v = Fraction(n)
    return rng.choice([
        (f"{n}%", v, "percent"), (f"{n} percent", v, "percent"),
        (f"{n} per cent", v, "percent"), (f"{n}\u00a0percent", v, "percent"),
        (f"{n} percentage points", v, "percentage_points"),
    ])


def count(rng):
    n = rng.choice([6000, 700000, 250000, 12, 467, 21000, 1800, 30000, 4000000])
    forms = [(f"{n:,} people", Fraction(n), "count"), (f"{n:,} visas", Fraction(n), "count")]
    if n % 1000 == 0 and n >= 1000:
        forms.append((f"{n // 1000}k marchers", Fraction(n), "count"))
    if n % 10**6 == 0:
        forms.append((f"{n // 10**6} million people", Fraction(n), "count"))
    return rng.choice(forms)


WORDS = [
    ("two-thirds of voters", Fraction(2, 3)), ("a quarter of families", Fraction(1, 4)),
    ("one-fifth of the budget", Fraction(1, 5)), ("half of the households", Fraction(1, 2)),
    ("a dozen towns", Fraction(12)), ("ten towns", Fraction(10)),
    ("twenty-five families", Fraction(25)), ("three-quarters of migrants", Fraction(3, 4)),
]

RANGES = [
    ("4,000 to 6,000 visas", Fraction(4000), Fraction(6000), "count", False),
    ("between 2 and 5 percent", Fraction(2), Fraction(5), "percent", True),
    ("$10,000 to $15,000", Fraction(10000), Fraction(15000), "USD", False),
    ("4 to 6 billion dollars", Fraction(4 * 10**9), Fraction(6 * 10**9), "USD", False),
    ("4,000-6,000 workers", Fraction(4000), Fraction(6000), "count", False),
    ("between 10 and 20 people", Fraction(10), Fraction(20), "count", True),
]

TRAPS = [
    "In 2017 the program was expanded.", "The fiscal year 2021 budget passed.",
    "On March 3, 2021 the talks resumed.", "It was the 21st meeting of the council.",
    "1. Register the household first.", "Call 555-123-4567 for help.",
    "During COVID-19 the border closed.", "The H-2B program grew.", "The G20 met in Rome.",
    "Hundreds of thousands of people left.", "Millions of dollars were lost.",
    "Since 1996 the rules have changed.",
]


def project_set():
    rng = random.Random(20261127)
    items = []
    makers = [money, share, count]
    while sum(len(g) for _, g in items) < 330:
        kind = rng.random()
        frame = rng.choice(FRAMES)
        if kind < 0.7:
            text_fig, value, unit = rng.choice(makers)(rng)
            q, qual = rng.choice(QUALIFIERS)
            figure, high = q + text_fig, None
        elif kind < 0.85:
            figure, value = rng.choice(WORDS)
            unit, qual, high = "count", "exact", None
            # The gold span is the number words, not the noun after them.
            words = figure.split(" of ")[0] if " of " in figure else " ".join(figure.split()[:-1])
            text = frame.format(figure)
            start = text.index(words)
            items.append((text, [(start, start + len(words), value, None, unit, qual)]))
            continue
        else:
            figure, value, high, unit, between = rng.choice(RANGES)
            qual = "exact"
        text = frame.format(figure)
        start = text.index(figure)
        end = start + len(figure)
        # The span ends at the figure, not at the noun it counts.
        for noun in (" people", " visas", " marchers", " workers"):
            if figure.endswith(noun):
                end -= len(noun)
        items.append((text, [(start, end, value, high, unit, qual)]))
    for trap in TRAPS:
        items.append((trap, []))
    return items


# ---------------------------------------------------------------------------------------------
# The corpus: gold mentions as offsets.

def corpus_set():
    if not GOLD.exists():
        return []
    gold = json.loads(GOLD.read_text())
    items = []
    for name, mentions in gold["files"].items():
        text = next(CORPUS.glob(name + "*")).read_text()
        items.append((text, [
            (m["start"], m["end"], Fraction(m["value"]), Fraction(m["high"]) if m.get("high") else None,
             m["unit"], m["qualifier"])
            for m in mentions
        ]))
    return items


# ---------------------------------------------------------------------------------------------
# The two extractors, as (start, end, value, high, unit, qualifier) per text.

def ours(binary, texts):
    lines = "\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(texts))
    out = subprocess.run([binary, "extract"], input=lines, capture_output=True, text=True, check=True)
    found = [[] for _ in texts]
    for line in out.stdout.splitlines():
        answer = json.loads(line)
        for m in answer["mentions"]:
            if m["kind"] != "quantity":
                continue
            unit = m["unit"]
            unit = {
                "currency": unit.get("code"),
                "duration": f"duration:{unit.get('code')}",
            }.get(unit["type"], unit["type"])
            high = Fraction(m["high"]) if m["high"] is not None else None
            found[answer["id"]].append(
                (m["start"], m["end"], Fraction(m["value"]), high, unit, m["qualifier"]))
    return found


QUANTULUM_UNITS = {
    "dollar": "USD", "united states dollar": "USD", "euro": "EUR", "pound sterling": "GBP",
    "mexican peso": "MXN", "peso": "MXN", "percentage": "percent", "percentage point": "percentage_points",
    "dimensionless": "count",
}


def quantulum(texts):
    from quantulum3 import parser
    found = []
    for t in texts:
        here = []
        for q in parser.parse(t):
            name = (q.unit.name or "").lower()
            unit = QUANTULUM_UNITS.get(name, name)
            value = Fraction(str(q.value))
            high = None
            if getattr(q, "uncertainty", None):
                u = Fraction(str(q.uncertainty))
                value, high = value - u, value + u
            here.append((q.span[0], q.span[1], value, high, unit, "exact"))
        found.append(here)
    return found


# ---------------------------------------------------------------------------------------------

FIELDS = ["value", "unit", "qualifier", "range", "value+unit", "mention"]


def correct(p, g, field):
    same = {
        "value": p[2] == g[2],
        "unit": p[4] == g[4],
        "qualifier": p[5] == g[5],
        "range": p[3] == g[3],
    }
    if field == "value+unit":
        return same["value"] and same["unit"]
    if field == "mention":
        return all(same.values())
    return same[field]


def score(predicted, gold):
    """Precision, recall and F1 per field, over all texts."""
    counts = {f: [0, 0] for f in FIELDS}  # right among predicted, right among gold
    n_pred = sum(len(p) for p in predicted)
    n_gold = sum(len(g) for g in gold)
    for preds, golds in zip(predicted, gold):
        used = set()
        for g in golds:
            pair = next((i for i, p in enumerate(preds)
                         if i not in used and p[0] < g[1] and g[0] < p[1]), None)
            if pair is None:
                continue
            used.add(pair)
            for f in FIELDS:
                if correct(preds[pair], g, f):
                    counts[f][0] += 1
                    counts[f][1] += 1
    table = {}
    for f, (right_p, right_g) in counts.items():
        p = right_p / n_pred if n_pred else 0.0
        r = right_g / n_gold if n_gold else 0.0
        table[f] = (p, r, 2 * p * r / (p + r) if p + r else 0.0)
    return table, n_pred, n_gold


def report(name, items, binary):
    texts = [t for t, _ in items]
    gold = [g for _, g in items]
    print(f"\n== {name}: {len(texts)} texts, {sum(len(g) for g in gold)} gold mentions")
    results = {"claimtrail": ours(binary, texts)}
    try:
        results["quantulum3"] = quantulum(texts)
    except ImportError:
        print("(quantulum3 is not installed: pip install quantulum3)")
    print(f"{'field':<12}" + "".join(f"{n + ' P':>16}{'R':>7}{'F1':>7}" for n in results))
    tables = {n: score(p, gold) for n, p in results.items()}
    for f in FIELDS:
        row = f"{f:<12}"
        for n in results:
            p, r, f1 = tables[n][0][f]
            row += f"{p:>16.3f}{r:>7.3f}{f1:>7.3f}"
        print(row)
    print("predicted: " + ", ".join(f"{n} {tables[n][1]}" for n in results))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target" / "release" / "claimtrail")
    report("project set", project_set(), binary)
    corpus = corpus_set()
    if corpus:
        report("corpus", corpus, binary)


if __name__ == "__main__":
    main()
