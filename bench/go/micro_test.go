// The micro set. Names follow Go's own runtime and sync benchmarks where one
// exists; each body here is written to match gort's C body in bench/micro.c
// one for one (same op, same number of tasks), so rows can be compared.
package gortbench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// op = one round trip over two unbuffered channels to an echo goroutine.
func BenchmarkChanSync(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
		close(pong)
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- i
		<-pong
	}
	b.StopTimer()
	close(ping)
	<-pong
}

// op = one element from one producer goroutine to the benchmark goroutine.
func chanProdCons(b *testing.B, capacity int) {
	c := make(chan int, capacity)
	go func(n int) {
		for i := 0; i < n; i++ {
			c <- i
		}
		close(c)
	}(b.N)
	for range c {
	}
}

func BenchmarkChanProdCons0(b *testing.B)   { chanProdCons(b, 0) }
func BenchmarkChanProdCons10(b *testing.B)  { chanProdCons(b, 10) }
func BenchmarkChanProdCons100(b *testing.B) { chanProdCons(b, 100) }

// op = one element through a channel of 100 shared by 4 producers and 4
// consumers.
func BenchmarkChanMPMC4x4(b *testing.B) {
	const side = 4
	c := make(chan int, 100)
	var prod, cons sync.WaitGroup
	prod.Add(side)
	cons.Add(side)
	for p := 0; p < side; p++ {
		n := b.N / side
		if p == 0 {
			n += b.N % side
		}
		go func(n int) {
			defer prod.Done()
			for i := 0; i < n; i++ {
				c <- i
			}
		}(n)
	}
	for k := 0; k < side; k++ {
		go func() {
			defer cons.Done()
			for range c {
			}
		}()
	}
	prod.Wait()
	close(c)
	cons.Wait()
}

// op = one select over 2 ready-or-not channels of capacity 1 plus one send
// (a token moves between them), on one goroutine.
func BenchmarkSelectUncontended(b *testing.B) {
	c1, c2 := make(chan int, 1), make(chan int, 1)
	c1 <- 0
	for i := 0; i < b.N; i++ {
		select {
		case v := <-c1:
			c2 <- v
		case v := <-c2:
			c1 <- v
		}
	}
}

// Same with 8 channels: one token goes round a ring of 8.
func BenchmarkSelectUncontended8(b *testing.B) {
	var cs [8]chan int
	for k := range cs {
		cs[k] = make(chan int, 1)
	}
	cs[0] <- 0
	for i := 0; i < b.N; i++ {
		var k, v int
		select {
		case v = <-cs[0]:
			k = 0
		case v = <-cs[1]:
			k = 1
		case v = <-cs[2]:
			k = 2
		case v = <-cs[3]:
			k = 3
		case v = <-cs[4]:
			k = 4
		case v = <-cs[5]:
			k = 5
		case v = <-cs[6]:
			k = 6
		case v = <-cs[7]:
			k = 7
		}
		cs[(k+1)%8] <- v
	}
}

// op = one select with a default on an empty unbuffered channel.
func BenchmarkSelectNonblock(b *testing.B) {
	c := make(chan int)
	for i := 0; i < b.N; i++ {
		select {
		case <-c:
		default:
		}
	}
}

// RunParallel with GOMAXPROCS goroutines, each with its own mutex.
func BenchmarkMutexUncontended(b *testing.B) {
	type padded struct {
		mu  sync.Mutex
		pad [64]byte
	}
	b.RunParallel(func(pb *testing.PB) {
		var m padded
		for pb.Next() {
			m.mu.Lock()
			m.mu.Unlock()
		}
	})
}

// RunParallel with GOMAXPROCS goroutines sharing one mutex.
func BenchmarkMutex(b *testing.B) {
	var mu sync.Mutex
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			mu.Unlock()
		}
	})
}

// op = one goroutine created and exited: a chain where each goroutine
// starts the next and returns.
func BenchmarkCreateGoroutines(b *testing.B) {
	var left atomic.Int64
	left.Store(int64(b.N))
	done := make(chan struct{})
	var hop func()
	hop = func() {
		if left.Add(-1) == 0 {
			close(done)
			return
		}
		go hop()
	}
	go hop()
	<-done
}

// op = WithCancel on Background, then cancel.
func BenchmarkContextWithCancel(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_, cancel := context.WithCancel(context.Background())
		cancel()
	}
}

// op = Acquire(1) and Release(1) on an uncontended weighted semaphore.
func BenchmarkSemaphoreAcquireRelease(b *testing.B) {
	s := semaphore.NewWeighted(1)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if err := s.Acquire(ctx, 1); err != nil {
			b.Fatal(err)
		}
		s.Release(1)
	}
}

// op = one uncontended singleflight Do.
func BenchmarkSingleflightDo(b *testing.B) {
	var g singleflight.Group
	fn := func() (interface{}, error) { return 1, nil }
	for i := 0; i < b.N; i++ {
		g.Do("key", fn)
	}
}

// op = one Allow on a limiter of 1e6 events/s with a burst of 100.
func BenchmarkRateLimiterAllow(b *testing.B) {
	lim := rate.NewLimiter(1e6, 100)
	n := 0
	for i := 0; i < b.N; i++ {
		if lim.Allow() {
			n++
		}
	}
	sink.Store(int64(n))
}

// RunParallel with GOMAXPROCS goroutines: Put then Get on one pool.
func BenchmarkPool(b *testing.B) {
	var p sync.Pool
	b.RunParallel(func(pb *testing.PB) {
		v := new(int)
		for pb.Next() {
			p.Put(v)
			v = p.Get().(*int)
		}
	})
	_ = runtime.GOMAXPROCS
}
