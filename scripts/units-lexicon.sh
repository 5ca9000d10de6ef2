#!/usr/bin/env bash
# Writes src/domain/statistics/units.tsv, the units of measurement the figure extractor knows,
# from two well-kept sources instead of a list written by hand:
#   - names, plural surfaces, symbols and dimensions: quantulum3's units.json (MIT licence,
#     https://github.com/nielstron/quantulum3), for the dimensions issue 18 names;
#   - conversions to the SI base unit of each dimension: pint's default registry (BSD-3-Clause,
#     https://github.com/hgrecco/pint).
# Both are pinned. A unit whose conversion pint does not give, or gives in another dimension
# than quantulum3's, is left out; so are symbols that are English words or letters (they are
# matched only glued to a number, see `statistics::units`), and symbols two units share.
# Run it again after changing a pin; then bump `statistics::EXTRACTOR_REVISION`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q pint==0.25.3
"$work/venv/bin/pip" download -q --no-deps quantulum3==0.10.0 -d "$work"
(cd "$work" && python3 -m zipfile -e quantulum3-0.10.0-py3-none-any.whl q)
"$work/venv/bin/python" - "$work/q/quantulum3/units.json" >src/domain/statistics/units.tsv <<'EOF'
import json, sys
import pint

units = json.load(open(sys.argv[1], encoding="utf-8"))
reg = pint.UnitRegistry()
# quantulum3's entity -> our dimension, and its SI base unit (pint must agree on the dimension).
DIMENSIONS = {
    "length": ("length", "metre"),
    "area": ("area", "metre ** 2"),
    "volume": ("volume", "metre ** 3"),
    "mass": ("mass", "kilogram"),
    "speed": ("speed", "metre / second"),
    "temperature": ("temperature", "kelvin"),
    "data storage": ("data_size", "bit"),
    "energy": ("energy", "joule"),
}
# quantulum3's metric prefixes (its load.py), for units that list them.
PREFIXES = {"E": "exa", "P": "peta", "T": "tera", "G": "giga", "M": "mega", "k": "kilo",
            "h": "hecto", "c": "centi", "m": "milli", "µ": "micro", "n": "nano"}
# Units a news text does not mean by these words (physics and genetics lengths, a speed of
# light written "c", counting words): their surfaces would only mislead.
SKIP = {"barn", "inverse femtobarn", "base pair", "kilo base pair", "mega base pair",
        "giga base pair", "nucleotide", "speed of light", "twip", "ell", "span", "cubit",
        "quantum bit", "nibble", "hartree", "solar mass", "earth mass", "drop", "quarter",
        "atomic mass unit", "quintal", "stere", "circular mil", "league", "cup", "quad"}

def expanded():
    for name, u in units.items():
        if u.get("entity") not in DIMENSIONS or name in SKIP:
            continue
        yield name, u
        for p in u.get("prefixes", []):
            if p in PREFIXES:
                word = PREFIXES[p]
                yield word + name, {**u, "surfaces": [word + s for s in u["surfaces"]],
                                    "symbols": [p + s for s in u.get("symbols", [])],
                                    "prefixes": []}

def conversion(name, u, base):
    """Factor and offset to the base unit, by the first spelling pint knows: names as one word
    first ("degree fahrenheit" read word by word is an angle times a temperature)."""
    names = [n for m in [name, *u.get("surfaces", [])] for n in (m, m.lower())]
    spellings = [n.replace(" ", "_").replace("-", "_") for n in names]
    spellings += [n for n in names if " " not in n] + u.get("symbols", [])
    spellings += [n for n in names if " " in n and not n.startswith("degree ")]
    for s in spellings:
        try:
            zero = reg.Quantity(0, s).to_base_units()
            one = reg.Quantity(1, s).to_base_units()
        except Exception:
            continue
        if one.dimensionality != reg.Quantity(1, base).dimensionality:
            continue  # another unit of that spelling ("F" is the farad)
        return one.magnitude - zero.magnitude, zero.magnitude
    return None

def plural(s):
    if s[-1:].isupper() or s.endswith(("s", "x", "z", "ch", "sh")):
        return s if s.endswith(("s", "x", "z")) else s + "es"
    if s.endswith("foot"):
        return s[:-4] + "feet"
    if s.endswith("y") and s[-2:-1] not in "aeiou":
        return s[:-1] + "ies"
    return s + "s"

rows, symbols, named = [], {}, {}
for name, u in expanded():
    dim, base = DIMENSIONS[u["entity"]]
    conv = conversion(name, u, base)
    if conv is None:
        print(f"left out (no conversion in pint): {name}", file=sys.stderr)
        continue
    surfaces = []
    for s in [name, *u.get("surfaces", [])]:
        s = s.lower()
        # "metre per second" -> "metres per second"; "kilowatt hour" -> "kilowatt hours".
        words = s.split(" ")
        at = words.index("per") - 1 if "per" in words else 0 if words[0] == "degree" else len(words) - 1
        many = " ".join(words[:at] + [plural(words[at])] + words[at + 1:])
        surfaces += [s, many]
    for sym in u.get("symbols", []):
        symbols.setdefault(sym, set()).add(name)
    for surface in surfaces:
        named.setdefault(surface, set()).add(name)
    rows.append((dim, name, conv, surfaces, u.get("symbols", [])))

print("# Units of measurement for figure extraction: generated by scripts/units-lexicon.sh; do not edit.")
print("# Names, surfaces and symbols: quantulum3 0.10.0 units.json (MIT licence, (c) 2016 Marco Lagi,")
print("# nielstron, sohrabtowfighi, grhawk, Rodrigo Castro). Conversions: pint 0.25.3 (BSD-3-Clause).")
print("# dimension\tunit\tfactor to the SI base unit\toffset\tsurfaces (lower case)\tsymbols (exact case)")
for dim, name, (factor, offset), surfaces, syms in sorted(rows):
    # A symbol two units share says nothing about which one it is.
    syms = [s for s in syms if len(symbols[s]) == 1 and "\t" not in s and "|" not in s]
    # A surface two units share stays with the unit of that name ("ton", "tons"), else with
    # neither.
    surf = sorted({s for s in surfaces if len(named[s]) == 1 or s in (name.lower(), plural(name.lower()))})
    print(f"{dim}\t{name}\t{factor:.12g}\t{offset:.12g}\t{'|'.join(surf)}\t{'|'.join(syms)}")
EOF
echo "wrote src/domain/statistics/units.tsv ($(grep -vc '^#' src/domain/statistics/units.tsv) units)" >&2
