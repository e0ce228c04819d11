package fakefs

import (
	"net"
	"slices"
	"sync"
	"time"
)

// call is one B-leg channel plus its outbound socket. All channel state is owned by a
// single engine goroutine; everything else (socket reader, timers, api requests) posts
// closures to it, so no state needs locks and events keep a strict order.
type call struct {
	s    *Server
	spec CallSpec
	b    leg
	aID  string // A-leg UUID (only used for uuid lookups and its HANGUP_COMPLETE)
	aSID int64  // A-leg session id

	qmu  sync.Mutex
	q    []func()
	dead bool
	wake chan struct{}

	conn     net.Conn
	out      [][]byte // written once per engine batch: one syscall for a burst of events
	sockGone bool
	ended    chan struct{} // closed when the engine exits

	myevents, subAll bool
	subs             map[string]bool
	linger           int // seconds; -1 forever
	lingering        bool
	parked           bool // CHANNEL_PARK sent: the socket app's park loop runs
	parkSched        bool
	socketActive     bool // socket app still running (until transfer or hangup)
	queue            []execReq
	nested           []execReq // executes to run inside the playing application next tick
	starting         bool
	cur              *app
	hungUp, done     bool
	digits           string
	recs             []*recording
	prompts          int             // prompt starts so far (AtPrompt anchor numbering)
	fired            map[Anchor]bool // one-shot anchors that fired
	dtmfQ            []string        // keys received, not yet taken by an application
	drainSched       bool            // the park loop's look at dtmfQ is scheduled
	transferred      bool
	lastApp, lastArg string
	timers           []*time.Timer
	res              CallResult
}

// execReq is a queued `sendmsg` execute.
type execReq struct{ name, arg, uuid string }

// post queues fn for the engine; false if the engine is gone.
func (c *call) post(fn func()) bool {
	c.qmu.Lock()
	if c.dead {
		c.qmu.Unlock()
		return false
	}
	c.q = append(c.q, fn)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// after runs fn on the engine after d, unless the engine is gone by then.
func (c *call) after(d time.Duration, fn func()) {
	c.timers = append(c.timers, time.AfterFunc(d, func() { c.post(fn) }))
}

func (c *call) run() {
	defer c.s.wg.Done()
	for {
		<-c.wake
		c.qmu.Lock()
		batch := c.q
		c.q = nil
		c.qmu.Unlock()
		for _, fn := range batch {
			fn()
		}
		c.flush()
		if c.done && c.sockGone {
			c.exit()
			return
		}
	}
}

// exit stops the engine. Closures posted after this point are refused; those already
// queued still run so that every api caller gets its answer.
func (c *call) exit() {
	for _, t := range c.timers {
		t.Stop()
	}
	c.qmu.Lock()
	c.dead = true
	rest := c.q
	c.q = nil
	c.qmu.Unlock()
	for _, fn := range rest {
		fn()
	}
	c.s.unregister(c, true)
	close(c.ended)
}

// flush writes everything the batch produced in one write.
func (c *call) flush() {
	if len(c.out) == 0 {
		return
	}
	if !c.sockGone {
		c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		bufs := net.Buffers(c.out) // writev: the shared event frames are not copied
		if _, err := bufs.WriteTo(c.conn); err != nil {
			c.s.log.Debug("outbound write failed", "uuid", c.b.uuid, "err", err)
			c.socketClosed()
		}
	}
	clear(c.out)
	c.out = c.out[:0]
}

func (c *call) reply(text string) { c.write(appendReply(nil, text)) }

// write queues one message for the end of the engine batch.
func (c *call) write(b []byte) { c.out = append(c.out, b) }

// myeventsSet is what `myevents` delivers (README, "myevents"): RECORD_* not included.
var myeventsSet = map[string]bool{
	"CHANNEL_CREATE": true, "CHANNEL_DATA": true, "CHANNEL_ANSWER": true, "CHANNEL_APPLICATION": true,
	"CHANNEL_BRIDGE": true, "CHANNEL_UNBRIDGE": true, "CHANNEL_DESTROY": true, "CHANNEL_EXECUTE": true,
	"CHANNEL_EXECUTE_COMPLETE": true, "CHANNEL_HANGUP": true, "CHANNEL_HANGUP_COMPLETE": true,
	"CHANNEL_ORIGINATE": true, "CHANNEL_OUTGOING": true, "CHANNEL_UUID": true, "CHANNEL_PARK": true,
	"CHANNEL_UNPARK": true, "CHANNEL_PROGRESS": true, "CHANNEL_PROGRESS_MEDIA": true,
	"CHANNEL_STATE": true, "DTMF": true, "TALK": true, "NOTALK": true, "DETECTED_SPEECH": true,
}

func (c *call) socketWants(name string) bool {
	if c.sockGone {
		return false
	}
	return c.subAll || c.subs[name] || (c.myevents && myeventsSet[name])
}

// emit builds a channel event once and sends it to the socket and to subscribed
// inbound connections. Unwanted events are not built, but still take a sequence number.
func (c *call) emit(name string, at site, withVars bool, tail ...kv) {
	toSock, toIn := c.socketWants(name), c.s.subs.Load().wants(name)
	if !toSock && !toIn {
		c.s.seq.Add(1)
		return
	}
	frame := c.s.channelEvent(&c.b, name, at, withVars, tail...)
	if toSock {
		c.write(frame)
	}
	if toIn {
		c.s.publish(name, frame)
	}
}

func (c *call) setState(state string, num int, callState string) {
	c.b.state, c.b.stateNum, c.b.callState = state, num, callState
}

// socketClosed handles the daemon closing (or losing) the socket. As in FreeSWITCH the
// socket application then returns: a channel still in it hangs up; a transferred
// channel lives on (its recording keeps growing) until the caller hangs up.
func (c *call) socketClosed() {
	if c.sockGone {
		return
	}
	c.sockGone = true
	c.conn.Close()
	if !c.hungUp && c.socketActive {
		// FreeSWITCH's socket application, its park over, runs the messages still queued
		// (switch_ivr_parse_all_events) before it returns: a transfer a daemon queued just
		// before it closed (callconsent turning a call away over max-calls) still runs
		// (esl/realfs). Without one the fake hangs up where FreeSWITCH's dialplan goes on.
		if i := slices.IndexFunc(c.queue, func(r execReq) bool { return r.name == "transfer" }); i >= 0 && c.cur == nil {
			r := c.queue[i]
			c.queue = nil
			c.exec(r)
			return
		}
		c.hangup("NORMAL_CLEARING")
	}
	if c.hungUp {
		c.done = true
	}
}

// closeSocket sends a final notice and closes.
func (c *call) closeSocket(notice []byte) {
	if c.sockGone {
		return
	}
	c.write(notice)
	c.flush()
	c.socketClosed()
}

// abort ends the call at once (ctx cancelled, server closed): recordings are
// finalised, nothing more is sent.
func (c *call) abort(err error) {
	c.conn.Close() // unblocks an engine stuck writing to a daemon that stopped reading
	c.post(func() {
		if c.res.Err == nil {
			c.res.Err = err
		}
		for _, r := range c.recs {
			c.s.rec.remove(r)
			r.stop(time.Now(), false)
		}
		c.recs = nil
		c.hungUp, c.done = true, true
		c.sockGone = true
		c.conn.Close()
	})
}
