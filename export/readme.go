package export

import (
	"fmt"
	"strings"
	"time"
)

// readmeText is README.txt of an access archive: what it holds and how to read it, in plain
// words, in Norwegian and in English, for the caller who asked and may not know what a
// pseudonym or a SHA-256 is.
func readmeText(s Summary, made time.Time) []byte {
	var b strings.Builder
	day := made.UTC().Format("2006-01-02")
	fmt.Fprintf(&b, `INNSYN I OPPTAK AV SAMTALER (norsk)
=====================================

Dette arkivet inneholder alt vi har lagret om samtalene dine med kundeservice, slik det var
%s (UTC). Du får det fordi du ba om innsyn (personvernforordningen artikkel 15).

`, day)
	if s.Calls == 0 {
		b.WriteString("Vi har ingen samtaler lagret fra telefonnummeret du oppga. Arkivet inneholder\nderfor ingen opptak.\n\n")
	} else {
		fmt.Fprintf(&b, "Vi har lagret %d samtale(r) fra telefonnummeret du oppga. %d opptak ligger i\narkivet. For %d samtale(r) er opptaket allerede slettet; da står det når og hvorfor.\n\n",
			s.Calls, s.Recordings, s.Deleted)
	}
	b.WriteString(`Innhold:
- manifest.json: en oversikt over hver samtale: når den startet, om du sa ja (tast 1) eller
  nei (tast 2) til opptak, beviset for valget (hvilken versjon av meldingen du hørte, hvor mye
  av den du hørte, hvilken tast), om du trakk samtykket tilbake, hva som skjedde med opptaket
  (når det ble tatt opp, hvor langt det er, når og hvorfor det ble slettet), og hvem hos oss
  som har sett eller hørt på samtalen, når og hvorfor.
- audio/: opptakene vi fortsatt har, ett per samtale (navnet er samtalens id).
- notices/: meldingen om opptak slik du hørte den, så du kan kontrollere beviset.
- README.txt: denne filen.

Telefonnummeret ditt er ikke lagret hos oss, heller ikke i dette arkivet: vi lagrer bare en
kode (et pseudonym) som regnes ut fra nummeret med en hemmelig nøkkel. Hver fil har et
fingeravtrykk (SHA-256) i manifest.json, slik at du kan se at ingenting er endret.
Opptak slettes senest etter 90 dager, eller straks du trekker samtykket tilbake.

`)
	fmt.Fprintf(&b, `ACCESS TO YOUR CALL RECORDINGS (English)
========================================

This archive holds everything we store about your calls to customer service, as it was on
%s (UTC). You receive it because you asked for access (GDPR Article 15).

`, day)
	if s.Calls == 0 {
		b.WriteString("We hold no calls from the phone number you gave. The archive therefore holds no\nrecordings.\n\n")
	} else {
		fmt.Fprintf(&b, "We hold %d call(s) from the phone number you gave. %d recording(s) are in this\narchive. For %d call(s) the recording has already been deleted; the manifest says when and why.\n\n",
			s.Calls, s.Recordings, s.Deleted)
	}
	b.WriteString(`Contents:
- manifest.json: one entry per call: when it started, whether you agreed (key 1) or refused
  (key 2) to recording, the proof of your choice (which version of the message you heard, how
  much of it you heard, which key), whether you withdrew consent, what happened to the
  recording (when it was made, its length, when and why it was deleted), and who at our
  company looked at or listened to the call, when and why.
- audio/: the recordings we still hold, one per call (named by the call's id).
- notices/: the message about recording as you heard it, so you can check the proof.
- README.txt: this file.

Your phone number is not stored by us, nor in this archive: we store only a code (a
pseudonym) computed from the number with a secret key. Every file has a fingerprint (SHA-256)
in manifest.json, so you can see that nothing was changed. Recordings are deleted after 90
days at the latest, or as soon as you withdraw consent.
`)
	return []byte(b.String())
}
