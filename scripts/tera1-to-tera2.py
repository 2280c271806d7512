#!/usr/bin/env python3
"""Rewrites the macros of Tera 1 templates as Tera 2 components, in place.

    scripts/tera1-to-tera2.py TEMPLATE...

For a site that overrides theme templates in its own templates/ folder (and for
branches written before the move to Tera 2). It rewrites what the default theme
used:

  {% macro name(a, b=1) %}…{%- endmacro name %}  ->  {% component name(a, b=1) %}…{%- endcomponent name %}
  {{ m::name(a=x, b="text") }}                  ->  {{<name a={x} b="text" />}}
  {{- self::name(a=x) }}                          ->  {{- <name a={x} /> }}
  {% import "file.html" as m %}                   ->  (removed: components are global)
  x is starting_with("/a/")                       ->  x is starting_with(pat="/a/")   (also ending_with, containing)
  list | filter(attribute="role", value="p")      ->  [e for e in list if e.role == "p"]

Macros of any file other than macros.html become components named
`<file name>.<macro>` (forms/buchung_texte.html: `buchung_texte.heading`), since
all components share one namespace. Defaults of `false` stay typed (Tera 2
infers the type from the default): an argument that receives other values
needs `=none`. Check the result with `campus check`; docs/theme-context.md
lists the other changes (`pair.0` is `pair[0]`, undefined fields, ...).
"""
import os
import re
import sys

CALL = re.compile(r'\{\{(-?) (\w+)::(\w+)\(((?:[^()"]|"[^"]*"|\([^()]*\))*)\) (-?)\}\}')
IMPORT = re.compile(r'\{% import "([^"]+)" as (\w+) %\}\n?')
TEST = re.compile(r"\bis (not )?(starting_with|ending_with|containing)\((?!pat=)")
FILTER = re.compile(r'([\w.]+) \| filter\(attribute="([\w.]+)", value=("[^"]*"|[\w.]+)\)')


def namespace(file_name):
    """Components of macros.html keep their names; other files prefix theirs."""
    base = os.path.splitext(os.path.basename(file_name))[0]
    return "" if base == "macros" else base + "."


def split_args(text):
    """Splits `a=1, b="x, y", c=f(d)` at the commas between arguments."""
    args, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            current += ch
            quote = None if ch == quote else quote
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        args.append(current.strip())
    return args


def component_args(text):
    out = []
    for arg in split_args(text):
        key, value = (part.strip() for part in arg.split("=", 1))
        out.append(f"{key}={value}" if re.fullmatch(r'"[^"]*"', value) else f"{key}={{{value}}}")
    return "".join(" " + a for a in out)


def convert(path, text):
    own = namespace(path)
    aliases = {"self": own}
    for file_name, alias in IMPORT.findall(text):
        aliases[alias] = namespace(file_name)

    def call(m):
        left, alias, name, args, right = m.groups()
        if alias not in aliases:
            return m.group(0)
        tag = f"<{aliases[alias]}{name}{component_args(args)} />"
        return f"{{{{{left} {tag} {right}}}}}" if left or right else f"{{{{{tag}}}}}"

    text = CALL.sub(call, text)
    text = TEST.sub(lambda m: f"is {m.group(1) or ''}{m.group(2)}(pat=", text)
    text = FILTER.sub(lambda m: f"[e for e in {m.group(1)} if e.{m.group(2)} == {m.group(3)}]", text)
    text = IMPORT.sub("", text)
    text = re.sub(r"\{%(-?) macro (\w+)\(", lambda m: f"{{%{m.group(1)} component {own}{m.group(2)}(", text)
    return re.sub(r"\{%(-?) endmacro (\w+) (-?)%\}", lambda m: f"{{%{m.group(1)} endcomponent {own}{m.group(2)} {m.group(3)}%}}", text)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = convert(path, text)
        if new != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print(f"umgeschrieben: {path}")


if __name__ == "__main__":
    main()
