#!/usr/bin/env python3
"""Converts the Hugo flavour of the reference corpus (../shared/bench/make_corpus.py)
into a KommunalCampus site: the same text and the same references.

Mapping (documented, because the content models differ a little):
  content/kurse/<slug>.md      -> content/einheiten/<slug>.md   (units; links /kurse/x/ -> /lerneinheiten/x/)
  content/gemeinden/<slug>.md  -> content/kommunen/<slug>.md    (selected units = `kurse`)
  content/faq.md (## sections) -> content/faq/frage-NN.md
  themen names                 -> content/themen/<slugified>.md
  (niveau, preis) pairs        -> data/niveaus.yaml
Hybrid units keep their dates (weekend dates move to the next Monday, as the
generator rejects weekend live dates); on-demand units get a start link instead
of dates. Pages, price and membership data come from the sample site.

usage: convert_corpus.py HUGO_SITE SAMPLE_SITE OUT_SITE
"""
import datetime
import json
import os
import re
import shutil
import sys


def slugify(text):
    text = text.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return "-".join(p for p in re.split(r"[^a-z0-9]+", text) if p)


def split(path):
    text = open(path, encoding="utf-8").read()
    _, front, body = text.split("---\n", 2)
    meta = {}
    for line in front.splitlines():
        key, _, value = line.partition(": ")
        meta[key] = json.loads(value) if value.startswith(("[", '"')) or value.isdigit() else value
    return meta, body


def q(s):
    return json.dumps(s, ensure_ascii=False)


def weekday(iso):
    d = datetime.date.fromisoformat(iso)
    while d.weekday() >= 5:
        d += datetime.timedelta(days=1)
    return d.isoformat()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(hugo, sample, out):
    if os.path.exists(out):
        shutil.rmtree(out)
    for sub in ("themes", "data"):
        shutil.copytree(os.path.join(sample, sub), os.path.join(out, sub))
    shutil.copytree(os.path.join(sample, "content", "seiten"), os.path.join(out, "content", "seiten"))
    shutil.copy(os.path.join(sample, "content", "start.md"), os.path.join(out, "content", "start.md"))
    shutil.copy(os.path.join(sample, "campus.toml"), os.path.join(out, "campus.toml"))
    shutil.copytree(os.path.join(hugo, "static"), os.path.join(out, "static"))
    link = re.compile(r"\(/kurse/(kurs-[^)]*)\)")

    levels, topics = {}, {}
    kurse = os.path.join(hugo, "content", "kurse")
    for name in sorted(os.listdir(kurse)):
        if name.startswith("_"):
            continue
        meta, body = split(os.path.join(kurse, name))
        level = f"{slugify(meta['niveau'])}-{meta['preis']}"
        levels[level] = (meta["niveau"], int(meta["preis"]))
        ids = []
        for t in meta["themen"]:
            topics[slugify(t)] = t
            ids.append(slugify(t))
        lines = ["---", f"titel: {q(meta['title'])}", f"kurzbeschreibung: {q(meta['title'])}",
                 f"niveau: {level}", f"themen: [{', '.join(ids)}]", "aufwand_stunden: 8"]
        if meta["format"] == "Hybrid":
            lines.append("format: hybrid")
            dates = sorted(set(weekday(d) for d in meta["termine"]))
            lines.append("termine:")
            for d in dates:
                lines += [f"  - datum: {d}", "    plaetze: 20"]
        else:
            lines += ["format: on-demand", f"start_link: https://lernen.example/{name[:-3]}"]
        lines.append("---")
        write(os.path.join(out, "content", "einheiten", name), "\n".join(lines) + "\n" + link.sub(r"(/lerneinheiten/\1)", body))

    levels_yaml = [
        f"- id: {lid}\n  name: {q(n + ' ' + str(p) + ' €')}\n  preis: {p}\n  abrechnung: Teilnahme\n"
        for lid, (n, p) in sorted(levels.items())
    ]
    write(os.path.join(out, "data", "niveaus.yaml"), "".join(levels_yaml))
    for tid, title in topics.items():
        write(os.path.join(out, "content", "themen", tid + ".md"), f"---\ntitel: {q(title)}\nkurzbeschreibung: {q('Thema ' + title)}\n---\n")

    gemeinden = os.path.join(hugo, "content", "gemeinden")
    for name in sorted(os.listdir(gemeinden)):
        if name.startswith("_"):
            continue
        meta, body = split(os.path.join(gemeinden, name))
        title = meta["title"].removeprefix("Gemeinde ")
        text = "\n".join([
            "---", f"name: {q(title)}", "art: Gemeinde", "mitglied: true", "beschaeftigte: 120",
            f"logo: {meta['logo']}", "bild:", f"  datei: {meta['logo']}", f"  alt: {q('Wappen von ' + title)}",
            f"einheiten: [{', '.join(meta['kurse'])}]", "ansprechperson:", "  name: Servicestelle Fortbildung",
            f"  email: fortbildung@{name[:-3]}.example", "freigabe: genossenschaft", "---",
        ])
        write(os.path.join(out, "content", "kommunen", name), text + "\n" + link.sub(r"(/lerneinheiten/\1)", body))

    write(os.path.join(out, "data", "faq-kategorien.yaml"), "- id: allgemein\n  name: Allgemeines\n")
    # The sample's exclusive courses name the sample's courses; the corpus has none.
    write(os.path.join(out, "data", "exklusivkurse.yaml"), "[]\n")
    _, faq = split(os.path.join(hugo, "content", "faq.md"))
    for i, section in enumerate(faq.split("\n## ")[1:], 1):
        question, _, answer = section.partition("\n")
        write(os.path.join(out, "content", "faq", f"frage-{i:02d}.md"),
              f"---\nfrage: {q(question.strip())}\nkategorie: allgemein\n---\n{answer.strip()}\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
