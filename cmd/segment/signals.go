package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// Ctrl-C and SIGTERM are answered alike, by one watcher for the whole process. A command that
// can stop cleanly (train saves a checkpoint, predict and eval finish what they write) takes
// a context from interruptible: the first signal cancels it and the command ends as it can,
// with exit status 130. Should it still be running interruptGrace later, or should a second
// signal come, the process exits at once with the same status: a read stuck in the kernel, or
// work that does not look at its context, cannot keep it alive. Without such a command
// running, the first signal ends the process.

// interruptGrace is how long a command has to stop after the first signal.
const interruptGrace = 10 * time.Second

// interrupts is the process's watcher.
var interrupts = &interruptWatch{}

// interruptible gives a context that Ctrl-C or SIGTERM cancels; call the cancel function when
// the command no longer looks at it.
func interruptible() (context.Context, context.CancelFunc) { return interrupts.context() }

// watchInterrupts makes the signals go to the watcher, which prints why it ends the process
// to errOut.
func watchInterrupts(errOut io.Writer) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go interrupts.watch(sigs, interruptGrace, func(why string) {
		fmt.Fprintf(errOut, "segment: interrupted%s\n", why)
		os.Exit(exitInterrupted)
	})
}

// interruptWatch hands out the contexts that the first signal cancels, and counts the
// commands holding one.
type interruptWatch struct {
	mu      sync.Mutex
	root    context.Context
	cancel  context.CancelFunc
	holders int
}

func (w *interruptWatch) context() (context.Context, context.CancelFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.root == nil {
		w.root, w.cancel = context.WithCancel(context.Background())
	}
	w.holders++
	ctx, cancel := context.WithCancel(w.root)
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			w.mu.Lock()
			w.holders--
			w.mu.Unlock()
		})
		cancel()
	}
}

// interrupt cancels every context handed out, now and later, and says whether some command
// holds one.
func (w *interruptWatch) interrupt() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.root == nil {
		w.root, w.cancel = context.WithCancel(context.Background())
	}
	w.cancel()
	return w.holders > 0
}

// watch waits for the first signal, cancels the contexts and calls exit when the process
// is to end: at once when no command holds a context, else on a second signal or when grace
// has passed. why says which, for the user.
func (w *interruptWatch) watch(sigs <-chan os.Signal, grace time.Duration, exit func(why string)) {
	<-sigs
	if !w.interrupt() {
		exit("")
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-sigs:
		exit(": second signal, stopping at once")
	case <-t.C:
		exit(fmt.Sprintf(": still running %v after the signal, stopping at once", grace))
	}
}
