#!/usr/bin/env bash
# Shows that the quality gate fails on real breakage. Each case breaks a scratch copy of the
# site (never the repository), runs scripts/quality-gate --site <copy> and expects exit 1
# plus the named findings in the output. Not part of CI (about a minute per case).
#
#   tests/quality/prove-failures.sh [case ...]
#     cases: a11y-trio, browser-only, form, booking-form, flow-pages
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CASES=("$@"); [ ${#CASES[@]} -eq 0 ] && CASES=(a11y-trio browser-only form booking-form flow-pages)
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/campus-prove.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
RESULT=0

copy_site() {
  rm -rf "$SCRATCH/site"; mkdir -p "$SCRATCH/site"
  for d in campus.toml content data static themes templates; do
    [ -e "$ROOT/$d" ] && cp -r "$ROOT/$d" "$SCRATCH/site/"
  done
}

expect() { # $1 = description, $2 = fixed string expected in the gate output
  if grep -qF -- "$2" "$SCRATCH/out.log"; then echo "  ✓ $1"; else echo "  ✗ $1 – nicht gefunden: $2"; RESULT=1; fi
}

for c in "${CASES[@]}"; do
  copy_site
  T="$SCRATCH/site/themes/default"
  case "$c" in
    a11y-trio)
      echo "== $c: Logo ohne alt, kaputter Link und Anker in der Fußzeile, Terminfelder ohne Label"
      sed -i 's|<img src="/bilder/logo-kommunalcampus.svg" alt="" |<img src="/bilder/logo-kommunalcampus.svg" |' "$T/templates/base.html"
      sed -i 's|        {% for item in site.legal -%}|        <li><a href="/gibt-es-nicht/">Kaputt</a></li><li><a href="/faq/#kein-solcher-anker">Kaputt</a></li>\n&|' "$T/templates/base.html"
      sed -i 's|<label for="kontakt-termin{{ i }}">\(.*\)</label>|<span>\1</span>|' "$T/templates/contact.html"
      ;;
    browser-only)
      echo "== $c: Fokus unsichtbar, Fußzeile zu breit, fremder Tracker, Pflichtlinks fehlen, Skript leer, Platzhalter statt Label"
      printf '\n*:focus, *:focus-visible { outline: none !important; box-shadow: none !important; }\n.fuss-copy { min-width: 900px; }\n' >> "$T/static/assets/campus.css"
      echo '/* leer */' > "$T/static/assets/campus.js"
      sed -i 's|  <p class="rahmen fuss-copy">|  <img src="https://tracker.example.org/p.gif" alt="" width="1" height="1">\n&|' "$T/templates/base.html"
      sed -i 's#{% for item in site.legal -%}#{% for item in site.legal | filter(attribute="url", value="/impressum/") -%}#' "$T/templates/base.html"
      sed -i 's|{{ m::input(form="newsletter", name="email", label="E-Mail-Adresse", type="email", required=true, autocomplete="email") }}|<div class="feld"><input type="email" id="newsletter-email" name="email" placeholder="E-Mail-Adresse" required></div>|' "$T/templates/newsletter.html"
      ;;
    form)
      echo "== $c: Kontaktformular schickt das E-Mail-Feld unter falschem Namen (Backend lehnt ab)"
      sed -i 's|m::input(form="kontakt", name="email",|m::input(form="kontakt", name="mail",|' "$T/templates/contact.html"
      ;;
    booking-form)
      echo "== $c: Buchungsformular schickt den Termin als Text statt als Datum (Backend lehnt ab)"
      sed -i 's|name="termin" value="{{ d.iso }}"|name="termin" value="{{ d.long }}"|' "$T/templates/unit.html"
      ;;
    flow-pages)
      echo "== $c: Kommunenseite nennt die Ansprechperson statt der Freigabe-Adresse; Bestätigungsknopf per CSS versteckt"
      sed -i 's|Die Anfrage geht an <a href="mailto:{{ authority.approver_email }}">{{ authority.approver_email }}</a>|Die Anfrage geht an <a href="mailto:{{ authority.contact.email }}">{{ authority.contact.email }}</a>|' "$T/templates/authority.html"
      printf '\nform[action*="/bestaetigen/"] { display: none; }\n' >> "$T/static/assets/campus.css"
      ;;
    *) echo "unbekannter Fall: $c"; exit 2 ;;
  esac
  echo "  Änderungen gegenüber themes/default:"
  diff -r "$ROOT/themes/default" "$T" | grep '^[<>]' | cut -c1-160 | sed 's/^/    /' | head -12
  "$ROOT/scripts/quality-gate" --site "$SCRATCH/site" > "$SCRATCH/out.log" 2>&1
  rc=$?
  if [ "$rc" -eq 1 ]; then echo "  ✓ Gate endet mit Status 1"; else echo "  ✗ Gate endet mit Status $rc (erwartet 1)"; RESULT=1; fi
  case "$c" in
    a11y-trio)
      expect "Nu Html Checker meldet fehlendes alt" 'element must have an “alt” attribute'
      expect "axe meldet image-alt" 'image-alt'
      expect "Linkprüfung meldet kaputten Link" 'Ziel /gibt-es-nicht/ existiert nicht'
      expect "Linkprüfung meldet kaputten Anker" 'Anker #kein-solcher-anker fehlt auf /faq/'
      expect "Label-Prüfung meldet Terminfeld" 'Feld ohne echtes Label: <input id="kontakt-termin1"'
      ;;
    browser-only)
      expect "Fokus-Prüfung schlägt an" '✗ Fokus'
      expect "320 px ohne horizontales Scrollen schlägt an" 'bei 320 CSS-px breit'
      expect "200 % Zoom (640 px) schlägt an" 'bei 640 CSS-px breit'
      expect "fremde Herkunft wird gemeldet" 'Anfrage an https://tracker.example.org/p.gif'
      expect "Pflichtlink Leichte Sprache fehlt" 'Fußzeile verlinkt nicht Leichte Sprache'
      expect "Beitragsrechner mit JS schlägt an" 'mit JS: nach Eingabe 730'
      expect "Platzhalter statt Label (axe lässt das durch)" 'Feld ohne echtes Label: <input id="newsletter-email"'
      ;;
    form)
      expect "ohne JS: Danke-Seite nicht erreicht" 'ohne JavaScript: Danke-Seite nicht erreicht'
      expect "mit JS: Danke-Seite nicht erreicht" 'mit JavaScript: Danke-Seite nicht erreicht'
      expect "Schritt forms-e2e schlägt fehl" 'FAIL  forms-e2e'
      ;;
    booking-form)
      expect "ohne JS: Backend lehnt die Buchung ab" 'Buchung ohne JavaScript: Backend lehnt das ausgefüllte Formular ab (HTTP 422)'
      expect "mit JS: Backend lehnt die Buchung ab" 'Buchung mit JavaScript: Backend lehnt das ausgefüllte Formular ab (HTTP 422)'
      expect "Schritt flows schlägt fehl" 'FAIL  flows'
      expect "Kontaktformular bleibt grün" 'ok    forms-e2e'
      ;;
    flow-pages)
      expect "Kommunenseite nennt den Freigebenden nicht" 'Buchung ohne JavaScript: /kommunen/eschenbrueck/ nennt nicht, wer freigibt (laut Inhalt die Kommune (fortbildung@eschenbrueck.example))'
      expect "Buchung: Bestätigungsknopf fehlt" 'Buchung mit JavaScript: Seite „Anfrage bestätigen“ hat keinen sichtbaren Knopf'
      expect "Newsletter: Bestätigungsknopf fehlt" 'Newsletter (Double-Opt-in): Seite „Anmeldung bestätigen“ hat keinen sichtbaren Knopf'
      expect "Schritt flows schlägt fehl" 'FAIL  flows'
      expect "Browser-Prüfungen bleiben grün" 'ok    browser'
      ;;
  esac
  echo "  Befunde (Auszug):"
  grep -E '^(✗|  ✗|  - |[0-9]+ Fehler)' "$SCRATCH/out.log" | cut -c1-220 | head -20 | sed 's/^/    /'
  sed -n '/== Zusammenfassung/,$p' "$SCRATCH/out.log" | sed 's/^/    /'
done
exit "$RESULT"
