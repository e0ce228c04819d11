// Package export writes what leaves callconsent's hands on purpose: a data subject's access
// archive (GDPR Art. 15, R-ACCESS-3: everything held about one caller, and who accessed it) and
// pseudonymised training copies of a recording (R-PSEUDO-3: the audio with chosen ranges
// silenced and no identifier inside). Both stream, so memory does not grow with the audio, and
// both write to a temporary file that is synced and then named, mode 0600, never replacing a
// file. It reads the store and the audit log through small interfaces of its own; who may
// export, and the audit entry of each attempt, are the access service's, wired in cmd/.
package export
