package realtime_test

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkAcrossInstances measures a write on instance A reaching an SSE
// and a WebSocket subscriber on instance B through Redis: from sending
// the POST to each subscriber reading the event, p50 and p99; post-* is
// the POST's own round trip (its transaction included), for comparison.
func BenchmarkAcrossInstances(b *testing.B) {
	w := newWorld(b, "alice")
	ra, rb, prefix := redisPair(b)
	a := newInstance(b, w, setup{rdb: ra, prefix: prefix})
	in := newInstance(b, w, setup{rdb: rb, prefix: prefix})
	auth := w.tokens["alice"]
	sse := dialSSE(b, in.srv.URL+"/notes/events/", "Authorization", auth)
	ws := dialWS(b, in.srv.URL+"/notes/events/", "Authorization", auth)
	var lsse, lws, lpost []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		a.write(b, w, "alice", "POST", "/notes/", `{"body":"b"}`, 201)
		lpost = append(lpost, time.Since(start))
		for got := 0; got < 2; {
			select {
			case <-sse.msgs:
				lsse = append(lsse, time.Since(start))
				got++
			case <-ws.msgs:
				lws = append(lws, time.Since(start))
				got++
			case <-time.After(10 * time.Second):
				b.Fatal("no event within 10s")
			}
		}
	}
	b.StopTimer()
	for name, l := range map[string][]time.Duration{"sse": lsse, "ws": lws, "post": lpost} {
		slices.Sort(l)
		b.ReportMetric(float64(l[len(l)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(l[len(l)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
}
