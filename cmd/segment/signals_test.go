package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// watchOnce starts a watcher on its own signal channel and returns the channel and what
// the watcher's exit receives.
func watchOnce(w *interruptWatch, grace time.Duration) (chan os.Signal, chan string) {
	sigs, exits := make(chan os.Signal, 2), make(chan string, 1)
	go w.watch(sigs, grace, func(why string) { exits <- why })
	return sigs, exits
}

// exitWithin returns what the watcher's exit got, or fails when it was not called in time.
func exitWithin(t *testing.T, exits chan string, d time.Duration, what string) string {
	t.Helper()
	select {
	case why := <-exits:
		return why
	case <-time.After(d):
		t.Fatalf("%s: the process was not ended within %v", what, d)
	}
	return ""
}

// SIGTERM and Ctrl-C end every command (issue 18, finding 6): at once when no command waits
// on a context, on a second signal, or after the grace when the command does not stop
// (blocked in a read, say); and a command that stops in time ends the process itself.
func TestInterruptsEndEveryCommand(t *testing.T) {
	t.Run("no command waits", func(t *testing.T) {
		sigs, exits := watchOnce(&interruptWatch{}, time.Hour)
		sigs <- syscall.SIGTERM
		exitWithin(t, exits, 5*time.Second, "SIGTERM with nothing to stop cleanly")
	})
	t.Run("second signal", func(t *testing.T) {
		w := &interruptWatch{}
		ctx, stop := w.context()
		defer stop()
		sigs, exits := watchOnce(w, time.Hour)
		sigs <- os.Interrupt
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the first signal did not cancel the command's context")
		}
		select {
		case why := <-exits:
			t.Fatalf("the first signal ended the process (%q) before the command could stop", why)
		case <-time.After(50 * time.Millisecond):
		}
		sigs <- syscall.SIGTERM
		exitWithin(t, exits, 5*time.Second, "a second signal")
	})
	t.Run("blocked command", func(t *testing.T) {
		w := &interruptWatch{}
		_, stop := w.context() // a command that never looks at its context
		defer stop()
		sigs, exits := watchOnce(w, 100*time.Millisecond)
		start := time.Now()
		sigs <- syscall.SIGTERM
		exitWithin(t, exits, 5*time.Second, "SIGTERM to a blocked command")
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("ended after %v, before the grace of 100ms", d)
		}
	})
	t.Run("command asks after the signal", func(t *testing.T) {
		w := &interruptWatch{}
		_, stop := w.context()
		sigs, exits := watchOnce(w, time.Hour)
		sigs <- os.Interrupt
		time.Sleep(20 * time.Millisecond)
		late, lateStop := w.context()
		defer lateStop()
		if late.Err() == nil {
			t.Error("a context asked for after the signal is not cancelled")
		}
		stop()
		select {
		case why := <-exits:
			t.Fatalf("the watcher ended the process (%q) though the grace has not passed", why)
		case <-time.After(20 * time.Millisecond):
		}
	})
}
