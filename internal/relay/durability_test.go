package relay

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv, when set, makes the test binary a relay: Serve on the address
// in childListen over the data directory in childEnv, printing the address
// it listens on.
const (
	childEnv    = "PARATRO_RELAY_TEST_CHILD_DATA"
	childListen = "PARATRO_RELAY_TEST_CHILD_LISTEN"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChild(dir, os.Getenv(childListen)))
	}
	os.Exit(m.Run())
}

// runChild serves a relay until SIGTERM (or SIGKILL).
func runChild(dir, listen string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := Serve(ctx, Config{Listen: listen, DataDir: dir}, func(addr string) { fmt.Println("listening", addr) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay child:", err)
		return 1
	}
	return 0
}

// relayProcess is a relay in a child process.
type relayProcess struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
}

// startChild runs a relay on dir in a child process listening on listen.
func startChild(t *testing.T, dir, listen string) *relayProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childListen+"="+listen)
	p := &relayProcess{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("relay child did not start: %v\n%s", err, p.stderr)
	}
	p.addr = strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	return p
}

// kill SIGKILLs the relay and waits for it to be gone.
func (p *relayProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func TestNothingAcknowledgedIsLostWhenTheRelayIsKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts relay processes")
	}
	dir := t.TempDir()
	relay := startChild(t, dir, "127.0.0.1:0")
	clientOf := func(name string) party {
		id := newIdentity(t, name)
		c, err := NewClient("http://"+relay.addr, id, ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Register(ctx(t)); err != nil {
			t.Fatal(err)
		}
		return party{id, c}
	}
	alice, bob := clientOf("alice"), clientOf("bob")
	// The relay host bootstraps alice as owner; she admits bob.
	if err := WriteBootstrap(dir, alice.id.Public); err != nil {
		t.Fatal(err)
	}
	for {
		if info, err := alice.c.Info(ctx(t)); err != nil {
			t.Fatal(err)
		} else if info.HasOwner {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := alice.c.AddOperator(ctx(t), "bob", RoleOperator); err != nil {
		t.Fatal(err)
	}
	cid := openCeremony(t, alice, bob)
	acked := map[uint64][]byte{}
	for i := range 10 {
		from, to := alice, bob
		if i%2 == 1 {
			from, to = bob, alice
		}
		env := seal(t, from, cid, i, nil, []party{to}, fmt.Sprintf("round %d", i))
		seq, err := from.c.Post(ctx(t), cid, KindEnvelope, env)
		if err != nil {
			t.Fatal(err)
		}
		acked[seq] = env
	}

	// bob waits for the next message across the restart
	polled := make(chan []Message, 1)
	go func() {
		msgs, err := bob.c.Messages(ctx(t), cid, 10, 8*time.Second)
		if err != nil {
			t.Errorf("poll across the restart: %v", err)
		}
		polled <- msgs
	}()
	time.Sleep(50 * time.Millisecond)
	relay.kill(t)
	relay = startChild(t, dir, relay.addr) // same port: the clients keep their URL

	last := []byte("outcome: ok")
	seq, err := alice.c.Post(ctx(t), cid, KindControl, last)
	if err != nil || seq != 11 {
		t.Fatalf("post after the restart: seq %d, %v; want 11", seq, err)
	}
	select {
	case msgs := <-polled:
		if len(msgs) != 1 || msgs[0].Seq != 11 || !bytes.Equal(msgs[0].Data, last) {
			t.Fatalf("poll across the restart got %+v", msgs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the poll across the restart did not return")
	}

	msgs, err := alice.c.Messages(ctx(t), cid, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 11 {
		t.Fatalf("%d messages after the restart, want 11", len(msgs))
	}
	for _, m := range msgs[:10] {
		if !bytes.Equal(m.Data, acked[m.Seq]) {
			t.Errorf("message %d changed across the restart", m.Seq)
		}
	}
	// the slots survived too: a retry of an acknowledged post gets its old number
	if again, err := alice.c.Post(ctx(t), cid, KindEnvelope, acked[1]); err != nil || again != 1 {
		t.Errorf("retry of message 1 after the restart: seq %d, %v", again, err)
	}
	if items, err := bob.c.Inbox(ctx(t), 0, 0); err != nil || len(items) != 1 || items[0].CeremonyID != cid {
		t.Errorf("bob's inbox after the restart: %+v, %v", items, err)
	}
}
