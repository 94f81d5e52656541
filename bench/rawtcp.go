package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
)

// rawFrame is the length-prefixed message raw-tcp-pingpong writes: a 4-byte
// big-endian length, then the 48 bytes.
var rawFrame = append(binary.BigEndian.AppendUint32(nil, uint32(len(message))), message...)

// rawTarget is raw-tcp-pingpong: a blocking write of the frame and a read
// of its echo over a TCP connection, no framework: the floor for serial
// latency. A connection carries one call at a time, so concurrent callers
// each take a connection of their own from an idle list (dialling a new one
// when it is empty): at 64 callers that is 64 connections, each with a
// server goroutine. ctx is ignored.
type rawTarget struct {
	ln    net.Listener
	addr  string
	idle  chan *rawConn
	mu    sync.Mutex
	conns []net.Conn // every connection dialled, to close
}

type rawConn struct {
	net.Conn
	in [4 + len(message)]byte
}

// maxIdleRaw bounds the idle list; more concurrent callers than this close
// their connection after each call.
const maxIdleRaw = 1024

func newRawTCP(*env) (target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go rawEcho(c)
		}
	}()
	return &rawTarget{ln: ln, addr: ln.Addr().String(), idle: make(chan *rawConn, maxIdleRaw)}, nil
}

// rawEcho echoes frames back on c until it closes. It reads through a
// buffer, so that a frame costs one read system call, not one for its length
// and one for its body.
func rawEcho(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var buf [512]byte
	for {
		if _, err := io.ReadFull(r, buf[:4]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(buf[:4]))
		if n > len(buf)-4 {
			return
		}
		if _, err := io.ReadFull(r, buf[4:4+n]); err != nil {
			return
		}
		if _, err := c.Write(buf[:4+n]); err != nil {
			return
		}
	}
}

func (t *rawTarget) name() string { return "raw-tcp-pingpong" }

func (t *rawTarget) call(context.Context) error {
	var c *rawConn
	select {
	case c = <-t.idle:
	default:
		nc, err := net.Dial("tcp", t.addr)
		if err != nil {
			return err
		}
		t.mu.Lock()
		t.conns = append(t.conns, nc)
		t.mu.Unlock()
		c = &rawConn{Conn: nc}
	}
	if _, err := c.Write(rawFrame); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, c.in[:]); err != nil {
		return err
	}
	if err := checkEchoBytes(c.in[4:]); err != nil {
		return err
	}
	select {
	case t.idle <- c:
	default:
		_ = c.Close()
	}
	return nil
}

func (t *rawTarget) close() {
	_ = t.ln.Close()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.conns {
		_ = c.Close()
	}
}
