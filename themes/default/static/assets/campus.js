/* KommunalCampus – progressive Verbesserungen.
   Alle Seiten funktionieren ohne dieses Skript. Keine Abhängigkeiten, keine Inline-Handler. */
(function () {
  'use strict';

  function euro(cents) {
    return (cents / 100).toLocaleString('de-DE', { style: 'currency', currency: 'EUR' });
  }

  function zahl(n) {
    return n.toLocaleString('de-DE');
  }

  /* ---------- (a) Beitragsrechner auf /mitgliedschaft/ ---------- */
  function beitragsrechner() {
    var daten = document.getElementById('anteilsregeln');
    var feld = document.getElementById('beschaeftigte');
    var ausgabe = document.getElementById('rechner-ergebnis');
    if (!daten || !feld || !ausgabe) { return; }
    var regeln;
    try {
      regeln = JSON.parse(daten.textContent);
    } catch (e) {
      return;
    }
    if (!regeln || !regeln.brackets || !regeln.brackets.length) { return; }
    var formular = feld.form;

    function anteile(beschaeftigte) {
      for (var i = 0; i < regeln.brackets.length; i++) {
        var bis = regeln.brackets[i][0];
        if (bis === null || beschaeftigte <= bis) { return regeln.brackets[i][1]; }
      }
      return regeln.brackets[regeln.brackets.length - 1][1];
    }

    /* Liefert true, wenn ein Ergebnis berechnet werden konnte. */
    function berechnen() {
      var roh = feld.value.trim();
      if (roh === '') {
        ausgabe.textContent = '';
        return false;
      }
      /* Dieselben Regeln wie das Backend (validate::german_whole_number):
         „1.500“ und „1 500“ sind 1500, „1,5“ oder „1.50“ sind nicht eindeutig. */
      var n = NaN;
      if (roh.indexOf(',') >= 0) {
        ausgabe.textContent = 'Bitte geben Sie eine ganze Zahl ohne Komma an, zum Beispiel 1500 oder 1.500.';
        return false;
      }
      var gruppen = roh.split(/[. \u00a0\u202f]/);
      var gut = gruppen.every(function (g) { return /^[0-9]+$/.test(g); }) &&
        (gruppen.length === 1 || (gruppen[0].length <= 3 && gruppen.slice(1).every(function (g) { return g.length === 3; })));
      if (gut) { n = Number(gruppen.join('')); }
      if (!gut || !isFinite(n) || n < 1) {
        ausgabe.textContent = 'Diese Zahl ist nicht eindeutig oder keine ganze Zahl ab 1. Bitte geben Sie zum Beispiel 1500 oder 1.500 ein.';
        return false;
      }
      var buchungen = buchungenInCent();
      if (buchungen === null) {
        ausgabe.textContent = 'Bitte geben Sie die Buchungen als Betrag in Euro an, zum Beispiel 2.500 oder 2500,50.';
        return false;
      }
      var a = anteile(n);
      var einlage = a * regeln.share_value_cents;
      var beitrag = einlage * (regeln.fee_factor || 1);
      /* Dieselbe Regel wie Membership::yearly_fee: Anteil der Buchungen, höchstens ein Anteil des Beitrags. */
      var minderung = Math.min(Math.round(buchungen * (regeln.reduction_percent || 0) / 100),
        Math.round(beitrag * (regeln.reduction_max_percent || 0) / 100));
      ausgabe.textContent = 'Bei ' + zahl(n) + ' Beschäftigten' +
        ' zeichnet Ihre Kommune ' + a + (a === 1 ? ' Geschäftsanteil' : ' Geschäftsanteile') +
        '. Die einmalige Einlage beträgt ' + euro(einlage) +
        ', der Jahresbeitrag vor der Minderung durch Buchungen ' + euro(beitrag) +
        (buchungen > 0 ? ', nach der Minderung um ' + euro(minderung) + ' noch ' + euro(beitrag - minderung) : '') + '.';
      return true;
    }

    /* Betrag wie "2.500" oder "2500,50"; leer ist 0, Unlesbares null. */
    function buchungenInCent() {
      if (!buchungenFeld) { return 0; }
      var roh = buchungenFeld.value.trim().replace(/€$/, '').replace(/[.\s\u00a0]/g, '');
      if (roh === '') { return 0; }
      var m = /^(\d{1,12})(?:,(\d{1,2}))?$/.exec(roh);
      if (!m) { return null; }
      return Number(m[1]) * 100 + Number(((m[2] || '0') + '0').slice(0, 2));
    }

    var buchungenFeld = document.getElementById('buchungen');
    feld.addEventListener('input', berechnen);
    if (buchungenFeld) { buchungenFeld.addEventListener('input', berechnen); }
    if (formular) {
      formular.addEventListener('submit', function (ereignis) {
        if (berechnen()) { ereignis.preventDefault(); }
      });
    }
    if (feld.value) { berechnen(); }
  }

  /* ---------- Mitgliedsantrag: Anteile, Einlage und Beitrag beim Tippen ---------- */
  function antragsrechner() {
    var daten = document.getElementById('antrag-anteilsregeln');
    var feld = document.getElementById('mitgliedsantrag-beschaeftigte');
    var ausgabe = document.getElementById('antrag-ergebnis');
    if (!daten || !feld || !ausgabe) { return; }
    var regeln;
    try {
      regeln = JSON.parse(daten.textContent);
    } catch (e) {
      return;
    }
    if (!regeln || !regeln.brackets || !regeln.brackets.length) { return; }
    function anteile(beschaeftigte) {
      for (var i = 0; i < regeln.brackets.length; i++) {
        var bis = regeln.brackets[i][0];
        if (bis === null || beschaeftigte <= bis) { return regeln.brackets[i][1]; }
      }
      return regeln.brackets[regeln.brackets.length - 1][1];
    }
    function eintrag(liste, begriff, wert) {
      var dt = document.createElement('dt');
      dt.textContent = begriff;
      var dd = document.createElement('dd');
      dd.textContent = wert;
      liste.appendChild(dt);
      liste.appendChild(dd);
    }
    feld.addEventListener('input', function () {
      /* Dieselben Regeln wie das Backend: „1.500“ ist 1500, „1,5“ ist keine ganze Zahl. */
      var roh = feld.value.trim();
      var gruppen = roh.split(/[. \u00a0\u202f]/);
      var gut = roh !== '' && roh.indexOf(',') < 0 &&
        gruppen.every(function (g) { return /^[0-9]+$/.test(g); }) &&
        (gruppen.length === 1 || (gruppen[0].length <= 3 && gruppen.slice(1).every(function (g) { return g.length === 3; })));
      var n = gut ? Number(gruppen.join('')) : NaN;
      ausgabe.textContent = '';
      if (!isFinite(n) || n < 1) { return; }
      var a = anteile(n);
      var einlage = a * regeln.share_value_cents;
      var satz = document.createElement('p');
      satz.textContent = 'Für ' + zahl(n) + ' Beschäftigte:';
      var liste = document.createElement('dl');
      liste.className = 'rechner-ergebnis';
      eintrag(liste, 'Geschäftsanteile', String(a));
      eintrag(liste, 'Einlage (einmalig)', euro(einlage));
      eintrag(liste, 'Jahresbeitrag vor Minderung', euro(einlage * (regeln.fee_factor || 1)));
      ausgabe.appendChild(satz);
      ausgabe.appendChild(liste);
    });
  }

  /* ---------- (b) Kommune aus ?kommune=<id> vorauswählen ---------- */
  function kommuneVorauswahl() {
    if (!window.URLSearchParams) { return; }
    var id = new URLSearchParams(window.location.search).get('kommune');
    if (!id) { return; }
    var listen = document.querySelectorAll('select[name="kommune"]');
    for (var i = 0; i < listen.length; i++) {
      var liste = listen[i];
      for (var j = 0; j < liste.options.length; j++) {
        if (liste.options[j].value === id) {
          liste.value = id;
          break;
        }
      }
    }
  }

  /* ---------- (c) Filter im Katalog ---------- */
  function katalogfilter() {
    var formular = document.getElementById('katalogfilter');
    if (!formular || !window.URLSearchParams) { return; }
    /* Vorgefilterte Seiten (Format, Niveau) enthalten nur ihre Einheiten:
       dort schickt das Formular in den vollständigen Katalog. */
    if (formular.hasAttribute('data-vorgefiltert')) { return; }
    var karten = document.querySelectorAll('#katalog-liste > li');
    if (!karten.length) { karten = document.querySelectorAll('li[data-format]'); }
    var anzahl = document.getElementById('katalog-anzahl');
    var leer = document.getElementById('katalog-leer');
    var thema = formular.elements.namedItem('thema');
    var format = formular.elements.namedItem('format');
    var niveau = formular.elements.namedItem('niveau');
    var frei = formular.elements.namedItem('freier_termin');
    var aufwand = formular.elements.namedItem('aufwand');
    var regeln = window.CampusSuche; /* dieselben Filterregeln wie das Backend */

    function setzeAuswahl(liste, wert) {
      if (!liste || wert === null) { return; }
      for (var i = 0; i < liste.options.length; i++) {
        if (liste.options[i].value === wert) { liste.value = wert; return; }
      }
    }

    /* Zustand aus der Adresse übernehmen (ohne Skript wertet /forms/katalog sie aus). */
    var start = new URLSearchParams(window.location.search);
    setzeAuswahl(thema, start.get('thema'));
    setzeAuswahl(format, start.get('format'));
    setzeAuswahl(niveau, start.get('niveau'));
    setzeAuswahl(aufwand, start.get('aufwand'));
    if (frei && start.get('freier_termin') === 'ja') { frei.checked = true; }

    function anwenden(ansagen, beimLaden) {
      var t = thema ? thema.value : '';
      var f = format ? format.value : '';
      var n = niveau ? niveau.value : '';
      var nurFrei = frei ? frei.checked : false;
      var a = aufwand ? aufwand.value : '';
      var filter = { thema: t, format: f, niveau: n, freier_termin: nurFrei, aufwand: a };
      var treffer = 0;
      for (var i = 0; i < karten.length; i++) {
        var k = karten[i];
        var einheit = {
          themen: (k.getAttribute('data-themen') || '').split(/\s+/),
          format: k.getAttribute('data-format'),
          niveau: k.getAttribute('data-niveau'),
          buchbar: k.getAttribute('data-freier-termin') === 'ja',
          stunden: parseFloat(k.getAttribute('data-stunden') || '0')
        };
        var passt = regeln ? regeln.passt(filter, einheit) :
          (!t || einheit.themen.indexOf(t) !== -1) && (!f || einheit.format === f) &&
          (!n || einheit.niveau === n) && (!nurFrei || einheit.buchbar);
        k.hidden = !passt;
        if (passt) { treffer++; }
      }
      if (leer) { leer.hidden = treffer !== 0; }
      if (anzahl && ansagen) {
        anzahl.textContent = treffer === 1 ? '1 Lerneinheit gefunden' : treffer + ' Lerneinheiten gefunden';
      }

      var abfrage = new URLSearchParams();
      if (t) { abfrage.set('thema', t); }
      if (f) { abfrage.set('format', f); }
      if (n) { abfrage.set('niveau', n); }
      if (nurFrei) { abfrage.set('freier_termin', 'ja'); }
      if (a) { abfrage.set('aufwand', a); }
      var text = abfrage.toString();
      /* Auf vorgefilterten Seiten (/lerneinheiten/format/…) zeigt die Adresse auf den Katalog. */
      var pfad = formular.getAttribute('data-katalog') || window.location.pathname;
      if (!beimLaden && window.history && window.history.replaceState) {
        window.history.replaceState(null, '', pfad + (text ? '?' + text : '') + window.location.hash);
      }
    }

    formular.addEventListener('change', function () { anwenden(true); });
    formular.addEventListener('submit', function (ereignis) {
      ereignis.preventDefault();
      anwenden(true);
    });
    formular.addEventListener('reset', function () {
      window.setTimeout(function () { anwenden(true); }, 0);
    });

    var aktiv = (thema && thema.value) || (format && format.value) || (niveau && niveau.value) || (frei && frei.checked) || (aufwand && aufwand.value);
    if (aktiv) { anwenden(true, true); }
  }

  /* Sehr viele Kommunen: statt einer Auswahlliste ein Textfeld, das aus
     /kommunen.json Vorschläge bekommt (datalist). */
  function kommunenVorschlaege() {
    var felder = document.querySelectorAll('input[data-kommunen-liste]');
    if (!felder.length || !window.fetch) { return; }
    window.fetch('/kommunen.json').then(function (antwort) {
      return antwort.ok ? antwort.json() : [];
    }).then(function (kommunen) {
      var liste = document.createElement('datalist');
      liste.id = 'kommunen-vorschlaege';
      kommunen.forEach(function (k) {
        var option = document.createElement('option');
        option.value = k.name;
        liste.appendChild(option);
      });
      document.body.appendChild(liste);
      felder.forEach(function (feld) { feld.setAttribute('list', liste.id); });
    }).catch(function () { /* ohne Vorschläge bleibt das Textfeld nutzbar */ });
  }

  /* ---------- (e) Zeitstempel für Formulare ----------
     Ohne Skript füllt das Backend den Stempel über eine Zwischenseite
     („Jetzt absenden“); mit Skript holen wir ihn beim Laden der Seite. */
  function formularStempel() {
    var felder = document.querySelectorAll('form[method="post"] input[name="ts"]');
    if (!felder.length || !window.fetch) { return; }
    var nachHerkunft = {};
    for (var i = 0; i < felder.length; i++) {
      var feld = felder[i];
      if (feld.value) { continue; }
      var herkunft;
      try {
        herkunft = new URL(feld.form.getAttribute('action') || '', window.location.href).origin;
      } catch (e) {
        continue;
      }
      (nachHerkunft[herkunft] = nachHerkunft[herkunft] || []).push(feld);
    }
    Object.keys(nachHerkunft).forEach(function (herkunft) {
      window.fetch(herkunft + '/forms/token', { credentials: 'omit', cache: 'no-store' }).then(function (antwort) {
        return antwort.ok ? antwort.json() : null;
      }).then(function (daten) {
        if (!daten || !daten.ts) { return; }
        nachHerkunft[herkunft].forEach(function (feld) {
          if (!feld.value) { feld.value = daten.ts; }
        });
      }).catch(function () { /* dann fragt das Backend einmal nach */ });
    });
  }

  /* ---------- Fehlerzusammenfassung: Fokus darauf, Links setzen den Fokus ins Feld ---------- */
  function fehlerzusammenfassung() {
    var box = document.querySelector('.fehler-zusammenfassung');
    if (!box) { return; }
    if (document.activeElement !== box) { box.focus(); }
    box.scrollIntoView();
    box.addEventListener('click', function (ereignis) {
      var link = ereignis.target.closest('a[href^="#"]');
      var feld = link && document.getElementById(link.getAttribute('href').slice(1));
      if (!feld) { return; }
      ereignis.preventDefault();
      /* Eine Gruppe (Termine zur Auswahl): ihr erstes Feld bekommt den Fokus. */
      var ziel = feld.tagName === 'FIELDSET' ? feld.querySelector('input, select, textarea') : feld;
      if (!ziel) { return; }
      /* Wie GOV.UK: die Beschriftung bleibt sichtbar über dem Feld. */
      var beschriftung = (ziel.labels && ziel.labels[0]) || feld;
      beschriftung.scrollIntoView();
      ziel.focus({ preventScroll: true });
    });
  }

  function los() {
    fehlerzusammenfassung();
    beitragsrechner();
    antragsrechner();
    kommuneVorauswahl();
    katalogfilter();
    kommunenVorschlaege();
    formularStempel();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', los);
  } else {
    los();
  }
}());
