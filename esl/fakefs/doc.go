// Package fakefs is a wire-faithful fake FreeSWITCH for tests and load generation.
//
// It speaks the event socket (ESL) exactly as the FreeSWITCH 1.11 transcripts in
// testdata/esl show: an inbound control port (auth, event subscriptions, api, bgapi,
// HEARTBEAT) and outbound calls that dial the daemon like the dialplan application
// `socket 127.0.0.1:8084 async full` does, then behave as the B-leg of a loopback call
// (connect, myevents, linger, sendmsg execute of answer, play_and_get_digits,
// record_session, transfer, ...). Scripted callers press digits and hang up at times
// relative to anchors (answer, prompt start, transfer).
//
// Event bodies are generated from a channel model whose header order, variable order
// and calling-site headers were taken from the transcripts, so the daemon's parser sees
// what a real FreeSWITCH would send. Everything is goroutine-safe; a call costs one
// reader goroutine, one engine goroutine and a few timers.
package fakefs
