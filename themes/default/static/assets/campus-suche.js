/* KommunalCampus – Suche, Katalogfilter und Selbstcheck ohne Neuladen.
   Die Regeln (Normalisierung, Rangfolge, Filter) sind dieselben wie im Generator
   (generator/src/search.rs, generator/src/discovery.rs); tests/search-vectors.json und
   tests/filter-vectors.json halten beide Seiten gleich (tests/js/*.test.js).
   Ohne JavaScript beantwortet das Formular-Backend dieselben Anfragen. */
(function (wurzel, fabrik) {
  'use strict';
  var api = fabrik();
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    wurzel.CampusSuche = api;
  }
}(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  /* Endungen, die ein Suchwort verlieren kann (die erste passende zählt). */
  var ENDUNGEN = ['en', 'er', 'es', 'e', 'n', 's'];
  var WORT = /[\p{Alphabetic}\p{N}]+/gu;

  function laenge(text) {
    return Array.from(text).length;
  }

  /* Kleingeschriebene Wörter (Folgen von Buchstaben und Ziffern). */
  function woerter(text) {
    return (String(text || '').match(WORT) || []).map(function (w) { return w.toLowerCase(); });
  }

  /* Indexformen eines Wortes: Umlaute als ae und als a, ß als ss. */
  function formen(wort) {
    var lang = '';
    var kurz = '';
    for (var i = 0; i < wort.length; i++) {
      var c = wort.charAt(i);
      if (c === 'ä') { lang += 'ae'; kurz += 'a'; }
      else if (c === 'ö') { lang += 'oe'; kurz += 'o'; }
      else if (c === 'ü') { lang += 'ue'; kurz += 'u'; }
      else if (c === 'ß') { lang += 'ss'; kurz += 'ss'; }
      else { lang += c; kurz += c; }
    }
    return lang === kurz ? [lang] : [lang, kurz];
  }

  function indexierbar(wort, stoppwoerter) {
    return laenge(wort) >= 2 && stoppwoerter.indexOf(formen(wort)[0]) === -1;
  }

  function indexTokens(text, stoppwoerter) {
    var out = [];
    woerter(text).forEach(function (w) {
      if (indexierbar(w, stoppwoerter)) { out.push.apply(out, formen(w)); }
    });
    return out;
  }

  function stamm(form) {
    for (var i = 0; i < ENDUNGEN.length; i++) {
      var e = ENDUNGEN[i];
      if (form.length >= e.length && form.slice(form.length - e.length) === e) {
        var rest = form.slice(0, form.length - e.length);
        return laenge(rest) >= 4 ? rest : form;
      }
    }
    return form;
  }

  function dazu(liste, wert) {
    if (liste.indexOf(wert) === -1) { liste.push(wert); }
  }

  /* Je Suchwort: Präfixe (Stämme) und exakte Formen (zählen doppelt). */
  function abfrageTerme(abfrage, stoppwoerter) {
    var terme = [];
    var gesehen = [];
    woerter(abfrage).forEach(function (w) {
      if (!indexierbar(w, stoppwoerter)) { return; }
      var term = { prefixes: [], exact: [] };
      formen(w).forEach(function (f) {
        var s = stamm(f);
        dazu(term.exact, f);
        dazu(term.exact, s);
        dazu(term.prefixes, s);
      });
      var schluessel = JSON.stringify(term);
      if (gesehen.indexOf(schluessel) === -1) {
        gesehen.push(schluessel);
        terme.push(term);
      }
    });
    return terme;
  }

  function untereGrenze(liste, wert) {
    var lo = 0;
    var hi = liste.length;
    while (lo < hi) {
      var mitte = (lo + hi) >>> 1;
      if (liste[mitte] < wert) { lo = mitte + 1; } else { hi = mitte; }
    }
    return lo;
  }

  /* Treffer [{doc, score}], beste zuerst; jedes Suchwort muss passen. */
  function suche(index, abfrage) {
    var terme = abfrageTerme(abfrage, index.stopwords || []);
    if (!terme.length) { return []; }
    if (!index._schluessel) { index._schluessel = Object.keys(index.tokens); }
    var schluessel = index._schluessel;
    var anzahl = index.docs.length;
    var summe = [];
    var i;
    for (i = 0; i < anzahl; i++) { summe.push(0); }
    terme.forEach(function (term) {
      var beste = [];
      for (var d = 0; d < anzahl; d++) { beste.push(0); }
      term.prefixes.forEach(function (praefix) {
        for (var k = untereGrenze(schluessel, praefix); k < schluessel.length; k++) {
          var token = schluessel[k];
          if (token.slice(0, praefix.length) !== praefix) { break; }
          var faktor = term.exact.indexOf(token) !== -1 ? 2 : 1;
          index.tokens[token].forEach(function (eintrag) {
            var w = eintrag[1] * faktor;
            if (w > beste[eintrag[0]]) { beste[eintrag[0]] = w; }
          });
        }
      });
      for (var j = 0; j < anzahl; j++) {
        summe[j] = summe[j] === null || beste[j] === 0 ? null : summe[j] + beste[j];
      }
    });
    var treffer = [];
    for (i = 0; i < anzahl; i++) {
      if (summe[i] !== null) { treffer.push({ doc: i, score: summe[i] }); }
    }
    treffer.sort(function (a, b) { return b.score - a.score || a.doc - b.doc; });
    return treffer;
  }

  /* ---------- Katalogfilter ---------- */
  function aufwandStufe(stunden) {
    if (stunden <= 4) { return 'bis-4'; }
    if (stunden <= 10) { return '4-bis-10'; }
    return 'ueber-10';
  }

  /* filter: {thema, format, niveau, freier_termin (bool), aufwand};
     einheit: {themen [], format, niveau, buchbar (bool), stunden}. */
  function passt(filter, einheit) {
    return (!filter.thema || einheit.themen.indexOf(filter.thema) !== -1) &&
      (!filter.format || einheit.format === filter.format) &&
      (!filter.niveau || einheit.niveau === filter.niveau) &&
      (!filter.freier_termin || einheit.buchbar) &&
      (!filter.aufwand || aufwandStufe(einheit.stunden) === filter.aufwand);
  }

  return {
    woerter: woerter,
    formen: formen,
    indexTokens: indexTokens,
    stamm: stamm,
    abfrageTerme: abfrageTerme,
    suche: suche,
    aufwandStufe: aufwandStufe,
    passt: passt
  };
}));

/* ---------- Seitenverhalten (nur im Browser) ---------- */
(function () {
  'use strict';
  if (typeof document === 'undefined' || typeof window === 'undefined') { return; }
  var api = window.CampusSuche;

  function indexLaden(url) {
    if (!indexLaden.versprechen) {
      indexLaden.versprechen = window.fetch(url, { headers: { Accept: 'application/json' } })
        .then(function (antwort) {
          if (!antwort.ok) { throw new Error('Index nicht verfügbar'); }
          return antwort.json();
        });
    }
    return indexLaden.versprechen;
  }

  function element(tag, klasse, text) {
    var e = document.createElement(tag);
    if (klasse) { e.className = klasse; }
    if (text) { e.textContent = text; }
    return e;
  }

  /* ---------- /suche/: Ergebnisse beim Tippen ---------- */
  function suchseite() {
    var formular = document.getElementById('suchformular');
    var feld = document.getElementById('suchbegriff');
    var liste = document.getElementById('such-liste');
    var status = document.getElementById('such-status');
    if (!formular || !feld || !liste || !status || !window.fetch || !window.URLSearchParams) { return; }
    var index = null;
    var zeitgeber = null;

    function zeigen(abfrage) {
      var treffer = abfrage.trim() ? api.suche(index, abfrage) : [];
      while (liste.firstChild) { liste.removeChild(liste.firstChild); }
      var leer = document.getElementById('such-leer');
      if (leer) { leer.hidden = !(abfrage.trim() && treffer.length === 0); }
      treffer.forEach(function (t) {
        var d = index.docs[t.doc];
        var li = element('li');
        var h = element('h3', 'suchtreffer-titel');
        var a = element('a', '', d.title);
        a.href = d.url;
        h.appendChild(a);
        li.appendChild(h);
        var info = element('p', 'suchtreffer-info');
        info.appendChild(element('span', 'badge', d.kind_label));
        [['format', 'badge badge-format', 'Format: '], ['level', 'badge badge-niveau', 'Niveau: ']].forEach(function (f) {
          if (!d[f[0]]) { return; }
          var s = element('span', f[1]);
          s.appendChild(element('span', 'visually-hidden', f[2]));
          s.appendChild(document.createTextNode(d[f[0]]));
          info.appendChild(document.createTextNode(' '));
          info.appendChild(s);
        });
        if (d.next_date) {
          info.appendChild(document.createTextNode(' '));
          info.appendChild(element('span', 'suchtreffer-termin', 'Nächster Termin: ' + d.next_date));
        }
        li.appendChild(info);
        if (d.summary) { li.appendChild(element('p', 'suchtreffer-text', d.summary)); }
        liste.appendChild(li);
      });
      var q = abfrage.trim();
      status.textContent = !q ? 'Geben Sie einen Suchbegriff ein.' :
        treffer.length === 0 ? 'Keine Treffer für „' + q + '“.' :
        treffer.length === 1 ? '1 Treffer für „' + q + '“.' :
        treffer.length + ' Treffer für „' + q + '“.';
      var adresse = q ? '?' + new URLSearchParams({ q: q }).toString() : '';
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, '', window.location.pathname + adresse);
      }
    }

    indexLaden(formular.getAttribute('data-index') || '/suche/index.json').then(function (geladen) {
      index = geladen;
      var start = new URLSearchParams(window.location.search).get('q');
      if (start !== null && start !== feld.value) { feld.value = start; }
      if (feld.value) { zeigen(feld.value); }
      feld.addEventListener('input', function () {
        window.clearTimeout(zeitgeber);
        zeitgeber = window.setTimeout(function () { zeigen(feld.value); }, 200);
      });
      formular.addEventListener('submit', function (ereignis) {
        ereignis.preventDefault();
        window.clearTimeout(zeitgeber);
        zeigen(feld.value);
      });
    }).catch(function () { /* ohne Index fragt das Formular das Backend */ });
  }

  /* ---------- Kopfzeile: Suche über die Suchseite (sofort, ohne Backend) ---------- */
  function kopfsuche() {
    var formulare = document.querySelectorAll('form.kopfsuche[data-suchseite]');
    for (var i = 0; i < formulare.length; i++) {
      formulare[i].setAttribute('action', formulare[i].getAttribute('data-suchseite'));
    }
  }

  /* ---------- /selbstcheck/: Ergebnis ohne Neuladen ---------- */
  function selbstcheck() {
    var formular = document.getElementById('selbstcheck');
    var ziel = document.getElementById('selbstcheck-ergebnis');
    var status = document.getElementById('selbstcheck-status');
    if (!formular || !ziel || !status || !window.fetch || !window.URLSearchParams || !window.FormData) { return; }
    var parameter = new URLSearchParams(window.location.search);
    var kommune = document.getElementById('selbstcheck-kommune');
    if (kommune && parameter.get('kommune')) { kommune.value = parameter.get('kommune'); }

    /* Zustand aus der Adresse übernehmen (geteilter Link). */
    var vorbelegt = false;
    parameter.forEach(function (wert, name) {
      var felder = formular.elements.namedItem(name);
      if (!felder || name === 'kommune') { return; }
      if (felder.tagName === 'SELECT') {
        felder.value = wert;
        vorbelegt = vorbelegt || name === 'profil';
      } else if (felder.length) {
        for (var i = 0; i < felder.length; i++) {
          if (felder[i].value === wert) { felder[i].checked = true; }
        }
      }
    });

    function fehlerZeigen(fehler) {
      ziel.textContent = '';
      var box = element('div', 'hinweis-box hinweis-fehler');
      var h = element('h2', '', 'Bitte prüfen Sie Ihre Angaben');
      h.id = 'ergebnis-titel';
      h.tabIndex = -1;
      box.appendChild(h);
      var ul = element('ul');
      fehler.forEach(function (f) { ul.appendChild(element('li', '', f)); });
      box.appendChild(ul);
      ziel.appendChild(box);
      status.textContent = fehler.join(' ');
      h.focus();
    }

    function senden(fokus) {
      var daten = new URLSearchParams(new FormData(formular));
      var adresse = formular.getAttribute('action') + '?' + daten.toString();
      return window.fetch(adresse, { headers: { Accept: 'application/json' } }).then(function (antwort) {
        return antwort.json().then(function (json) { return { ok: antwort.ok, json: json }; });
      }).then(function (r) {
        if (!r.ok || !r.json.ok) {
          fehlerZeigen(r.json.errors || ['Das Ergebnis konnte nicht berechnet werden.']);
          return;
        }
        ziel.innerHTML = r.json.html; /* vom eigenen Backend mit Autoescaping gerendert */
        status.textContent = r.json.result.summary;
        if (window.history && window.history.replaceState) {
          daten.delete('kommune');
          if (kommune && kommune.value) { daten.set('kommune', kommune.value); }
          window.history.replaceState(null, '', window.location.pathname + '?' + daten.toString());
        }
        var titel = document.getElementById('ergebnis-titel');
        if (titel && fokus) { titel.focus(); }
      });
    }

    formular.addEventListener('submit', function (ereignis) {
      if (!formular.checkValidity()) { return; }
      ereignis.preventDefault();
      senden(true).catch(function () { formular.submit(); });
    });
    if (vorbelegt) { senden(false).catch(function () { /* Formular bleibt nutzbar */ }); }
  }

  function los() {
    suchseite();
    kopfsuche();
    selbstcheck();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', los);
  } else {
    los();
  }
}());
