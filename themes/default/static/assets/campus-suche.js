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
  /* Wörter mit Bindestrichen („E-Akte“) und der Bindestrich selbst. */
  var WORT_MIT_BINDESTRICH = /[\p{Alphabetic}\p{N}\u002D\u2010\u2011]+/gu;
  var BINDESTRICH = /[\u002D\u2010\u2011]/;
  /* Kompositum: so viele Zeichen des Stamms und davor („Projektteam“ für „Team“). */
  var KOMPOSITUM_TEIL_MIN = 4;
  var KOMPOSITUM_KOPF_MIN = 3;
  /* Wie gut ein Suchwort passte (kleiner ist besser). */
  var WORT_PASST = 0;
  var KOMPOSITUM = 1;
  var TIPPFEHLER = 2;

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

  /* Die Wörter, wie der Index sie sieht: dazu nach den Teilen eines Wortes mit
     Bindestrich die Teile zusammengeschrieben („E-Akte“: e, akte, eakte). */
  function geschriebeneWoerter(text) {
    var out = [];
    (String(text || '').match(WORT_MIT_BINDESTRICH) || []).forEach(function (stueck) {
      var teile = stueck.split(BINDESTRICH)
        .filter(function (t) { return t !== ''; })
        .map(function (t) { return t.toLowerCase(); });
      out.push.apply(out, teile);
      if (teile.length > 1) { out.push(teile.join('')); }
    });
    return out;
  }

  function indexTokens(text, stoppwoerter) {
    var out = [];
    geschriebeneWoerter(text).forEach(function (w) {
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

  /* Der Term eines Suchworts: Präfixe (Stämme) und exakte Formen (zählen doppelt). */
  function termVon(wort) {
    var term = { prefixes: [], exact: [] };
    formen(wort).forEach(function (f) {
      var s = stamm(f);
      dazu(term.exact, f);
      dazu(term.exact, s);
      dazu(term.prefixes, s);
    });
    return term;
  }

  /* Die verschiedenen Suchwörter [{wort, term}]; ein Wort mit dem Term eines
     früheren fällt weg. */
  function abfrageWoerter(abfrage, stoppwoerter) {
    var out = [];
    var gesehen = [];
    woerter(abfrage).forEach(function (w) {
      if (!indexierbar(w, stoppwoerter)) { return; }
      var term = termVon(w);
      var schluessel = JSON.stringify(term);
      if (gesehen.indexOf(schluessel) === -1) {
        gesehen.push(schluessel);
        out.push({ wort: w, term: term });
      }
    });
    return out;
  }

  function abfrageTerme(abfrage, stoppwoerter) {
    return abfrageWoerter(abfrage, stoppwoerter).map(function (x) { return x.term; });
  }

  /* Die Enden eines Kompositums auf teil: teil, danach nichts oder eine der Endungen. */
  function kompositumEnden(teil) {
    return [''].concat(ENDUNGEN).map(function (ende) { return teil + ende; });
  }

  /* Ob token ein Kompositum ist, das auf eines der enden ausgeht, mit
     mindestens drei Zeichen davor („sicherheitsvorfalls“ für „vorfall“). */
  function istKompositum(token, enden) {
    for (var i = 0; i < enden.length; i++) {
      var ende = enden[i];
      if (token.length >= ende.length + KOMPOSITUM_KOPF_MIN && token.endsWith(ende) &&
          laenge(token.slice(0, token.length - ende.length)) >= KOMPOSITUM_KOPF_MIN) {
        return true;
      }
    }
    return false;
  }

  /* Erlaubte Tippfehler in einem Suchwort mit n Zeichen. */
  function tippBudget(n) {
    if (n < 5) { return 0; }
    return n <= 8 ? 1 : 2;
  }

  /* Abstand zweier Zeichenfolgen (Einfügen, Löschen, Ändern und Vertauschen
     zweier Nachbarn je ein Schritt), wenn er höchstens max ist, sonst null. */
  function abstandHoechstens(a, b, max) {
    if (Math.abs(a.length - b.length) > max) { return null; }
    var davor = [];
    var vorige = [];
    var zeile = [];
    var j;
    for (j = 0; j <= b.length; j++) { davor.push(0); vorige.push(j); zeile.push(0); }
    for (var i = 1; i <= a.length; i++) {
      zeile[0] = i;
      var minimum = i;
      for (j = 1; j <= b.length; j++) {
        var aendern = a[i - 1] === b[j - 1] ? 0 : 1;
        var d = Math.min(vorige[j] + 1, zeile[j - 1] + 1, vorige[j - 1] + aendern);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          d = Math.min(d, davor[j - 2] + 1);
        }
        zeile[j] = d;
        if (d < minimum) { minimum = d; }
      }
      /* Aus einer Zeile ohne Feld im Rahmen führt kein Weg zurück. */
      if (minimum > max) { return null; }
      var frei = davor;
      davor = vorige;
      vorige = zeile;
      zeile = frei;
    }
    return vorige[b.length] <= max ? vorige[b.length] : null;
  }

  /* besser, großgeschrieben, wenn getippt mit einem Zeichen beginnt, das sich
     beim Kleinschreiben ändert. */
  function mitGrossschreibung(getippt, besser) {
    var erstes = Array.from(getippt)[0];
    if (!erstes || erstes.toLowerCase() === erstes) { return besser; }
    var zeichen = Array.from(besser);
    return zeichen.length ? zeichen[0].toUpperCase() + zeichen.slice(1).join('') : besser;
  }

  /* Die Abfrage mit den korrigierten Wörtern; alles zwischen den Wörtern bleibt. */
  function korrigierteAbfrage(abfrage, korrekturen) {
    return abfrage.replace(WORT, function (getippt) {
      var klein = getippt.toLowerCase();
      for (var i = 0; i < korrekturen.length; i++) {
        if (korrekturen[i][0] === klein) { return mitGrossschreibung(getippt, korrekturen[i][1]); }
      }
      return getippt;
    });
  }

  function hat(objekt, schluessel) {
    return !!objekt && Object.prototype.hasOwnProperty.call(objekt, schluessel);
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

  function schluesselVon(index) {
    /* Sortiert wie im Generator (Object.keys stellt Zahlen wie „2027“ voran). */
    if (!index._schluessel) { index._schluessel = Object.keys(index.tokens).sort(); }
    return index._schluessel;
  }

  /* Je Dokument: wie ein Suchwort passt, {stufe, w} oder null. */
  function passungen(index, term) {
    var schluessel = schluesselVon(index);
    var beste = [];
    for (var d = 0; d < index.docs.length; d++) { beste.push(null); }
    function merken(eintraege, stufe, faktor) {
      eintraege.forEach(function (eintrag) {
        var alt = beste[eintrag[0]];
        var w = eintrag[1] * faktor;
        if (alt === null || stufe < alt.stufe || (stufe === alt.stufe && w > alt.w)) {
          beste[eintrag[0]] = { stufe: stufe, w: w };
        }
      });
    }
    term.prefixes.forEach(function (praefix) {
      for (var k = untereGrenze(schluessel, praefix); k < schluessel.length; k++) {
        var token = schluessel[k];
        if (token.slice(0, praefix.length) !== praefix) { break; }
        merken(index.tokens[token], WORT_PASST, term.exact.indexOf(token) !== -1 ? 2 : 1);
      }
    });
    var enden = [];
    term.prefixes.forEach(function (p) {
      if (laenge(p) >= KOMPOSITUM_TEIL_MIN) { enden.push.apply(enden, kompositumEnden(p)); }
    });
    if (enden.length) {
      for (var k = 0; k < schluessel.length; k++) {
        if (istKompositum(schluessel[k], enden)) { merken(index.tokens[schluessel[k]], KOMPOSITUM, 1); }
      }
    }
    return beste;
  }

  /* Das Wort, das ein getipptes Wort ohne Treffer wohl meinte, wie geschrieben:
     der nächste Token im Rahmen; bei Gleichstand der in mehr Dokumenten, dann
     der alphabetisch erste. */
  function korrektur(index, wort, term) {
    var budget = tippBudget(laenge(wort));
    if (!budget) { return null; }
    var getippt = term.exact.map(function (x) { return Array.from(x); });
    var kuerzestes = Math.min.apply(null, getippt.map(function (x) { return x.length; }));
    var laengstes = Math.max.apply(null, getippt.map(function (x) { return x.length; }));
    var beste = null;
    schluesselVon(index).forEach(function (token) {
      /* Ein Token hat höchstens token.length und mindestens halb so viele Zeichen. */
      if (token.length + budget < kuerzestes || token.length > 2 * (laengstes + budget)) { return; }
      var zeichen = Array.from(token);
      var d = null;
      getippt.forEach(function (x) {
        var e = abstandHoechstens(x, zeichen, budget);
        if (e !== null && (d === null || e < d)) { d = e; }
      });
      if (d === null) { return; }
      var n = index.tokens[token].length;
      if (beste === null || d < beste.d || (d === beste.d && n > beste.n)) {
        beste = { d: d, n: n, token: token };
      }
    });
    if (beste === null) { return null; }
    return hat(index.spellings, beste.token) ? index.spellings[beste.token] : beste.token;
  }

  /* {treffer: [{doc, score, stufe}], vorschlag}: Treffer, beste zuerst (jedes
     Suchwort muss passen), und die korrigierte Abfrage oder null. */
  function suche(index, abfrage) {
    var woerterDerAbfrage = abfrageWoerter(abfrage, index.stopwords || []);
    if (!woerterDerAbfrage.length) { return { treffer: [], vorschlag: null }; }
    var anzahl = index.docs.length;
    var summe = [];
    var i;
    for (i = 0; i < anzahl; i++) { summe.push({ stufe: WORT_PASST, score: 0 }); }
    var korrekturen = [];
    woerterDerAbfrage.forEach(function (x) {
      var beste = passungen(index, x.term);
      if (beste.every(function (b) { return b === null; })) {
        var besser = korrektur(index, x.wort, x.term);
        if (besser !== null) {
          beste = passungen(index, termVon(besser)).map(function (b) {
            return b === null ? null : { stufe: TIPPFEHLER, w: b.w };
          });
          korrekturen.push([x.wort, besser]);
        }
      }
      for (var j = 0; j < anzahl; j++) {
        summe[j] = summe[j] === null || beste[j] === null ? null :
          { stufe: Math.max(summe[j].stufe, beste[j].stufe), score: summe[j].score + beste[j].w };
      }
    });
    var treffer = [];
    for (i = 0; i < anzahl; i++) {
      if (summe[i] !== null) { treffer.push({ doc: i, score: summe[i].score, stufe: summe[i].stufe }); }
    }
    treffer.sort(function (a, b) { return a.stufe - b.stufe || b.score - a.score || a.doc - b.doc; });
    return {
      treffer: treffer,
      vorschlag: korrekturen.length && treffer.length ? korrigierteAbfrage(abfrage, korrekturen) : null
    };
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
    geschriebeneWoerter: geschriebeneWoerter,
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

    /* „Meinten Sie …?“ unter der Trefferzahl: ein eigener Statusbereich, der von
       Anfang an da ist (sonst sagen Bildschirmleser den Vorschlag nicht an) und
       ohne Vorschlag leer bleibt. */
    var vorschlagAbsatz = document.getElementById('such-vorschlag');
    if (!vorschlagAbsatz) {
      vorschlagAbsatz = element('p');
      vorschlagAbsatz.id = 'such-vorschlag';
      status.parentNode.insertBefore(vorschlagAbsatz, status.nextSibling);
    }
    vorschlagAbsatz.setAttribute('role', 'status');

    function vorschlagZeigen(vorschlag) {
      while (vorschlagAbsatz.firstChild) { vorschlagAbsatz.removeChild(vorschlagAbsatz.firstChild); }
      if (!vorschlag) { return; }
      vorschlagAbsatz.appendChild(document.createTextNode('Meinten Sie '));
      var a = element('a', '', '„' + vorschlag + '“');
      a.href = window.location.pathname + '?' + new URLSearchParams({ q: vorschlag }).toString();
      a.addEventListener('click', function (ereignis) {
        ereignis.preventDefault();
        feld.value = vorschlag;
        zeigen(vorschlag);
        feld.focus();
      });
      vorschlagAbsatz.appendChild(a);
      vorschlagAbsatz.appendChild(document.createTextNode('?'));
    }

    function zeigen(abfrage) {
      var antwort = abfrage.trim() ? api.suche(index, abfrage.trim()) : { treffer: [], vorschlag: null };
      var treffer = antwort.treffer;
      vorschlagZeigen(antwort.vorschlag);
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
