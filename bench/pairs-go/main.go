// A load generator for the v1 pairing contract, written in Go with gorilla/websocket so
// that it is neutral between pairlink and the Go servers it is compared with
// (scripts/bench-one-node-cpu.sh). Each of -pairs pairs connects its display, then its
// controller, and loops: the controller sends {"difficulty":1}, and the round trip ends
// when the display has its draw and the controller its {"status":"received"}. Prints
// one line of JSON: round trips completed in -duration, and any error.
package main

import (
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

func uuid() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func pair(url string, deadline time.Time, done *atomic.Int64) error {
	id := uuid()
	display, _, err := websocket.DefaultDialer.Dial(url+"/ws/difficulty/unity/"+id, nil)
	if err != nil {
		return fmt.Errorf("display: %w", err)
	}
	defer display.Close()
	controller, _, err := websocket.DefaultDialer.Dial(url+"/ws/difficulty/android/"+id, nil)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	defer controller.Close()
	request := []byte(`{"difficulty":1}`)
	for time.Now().Before(deadline) {
		if err := controller.WriteMessage(websocket.TextMessage, request); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		if _, _, err := display.ReadMessage(); err != nil {
			return fmt.Errorf("draw: %w", err)
		}
		if _, _, err := controller.ReadMessage(); err != nil {
			return fmt.Errorf("receipt: %w", err)
		}
		done.Add(1)
	}
	return nil
}

func main() {
	url := flag.String("url", "ws://127.0.0.1:8080", "the server")
	pairs := flag.Int("pairs", 50, "pairs, each with one request in flight")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	flag.Parse()

	deadline := time.Now().Add(*duration)
	var done atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < *pairs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pair(*url, deadline, &done); err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	result := map[string]any{"round_trips": done.Load(), "seconds": duration.Seconds()}
	if first != nil {
		result["error"] = first.Error()
	}
	json.NewEncoder(os.Stdout).Encode(result)
	if first != nil {
		os.Exit(1)
	}
}
