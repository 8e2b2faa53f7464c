package simple

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkEchoRoundTrip measures one connection's round trips through
// the echo server and EchoClient in one process, for the message sizes
// bench/echo drives plumb serve with.
func BenchmarkEchoRoundTrip(b *testing.B) {
	for _, size := range []int{64, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			addr := startTCP(b, &Server{Service: Echo})
			ec, err := (&Client{}).DialEcho(context.Background(), addr)
			if err != nil {
				b.Fatal(err)
			}
			defer ec.Close()
			msg, reply := make([]byte, size), make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := ec.RoundTrip(msg, reply); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
