// The seed's benchmark (seed 003, "Benchmarks: Worker Pool vs. Naive
// Goroutine Spawn") and its neighbours. BenchmarkNaiveSpawn and
// BenchmarkWorkerPool are the seed's text unchanged; everything else is
// written to match gort's C bodies in bench/seed.c one for one.
package gortbench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/errgroup"
)

func doTask(n int) int {
	// Light CPU work
	sum := 0
	for i := 0; i < n; i++ {
		sum += i
	}
	return sum
}

const numTasks = 10_000
const workLoad = 1_000

// Naive: one goroutine per task
func BenchmarkNaiveSpawn(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		wg.Add(numTasks)
		for j := 0; j < numTasks; j++ {
			go func() {
				defer wg.Done()
				doTask(workLoad)
			}()
		}
		wg.Wait()
	}
}

// Worker pool: fixed number of goroutines
func BenchmarkWorkerPool(b *testing.B) {
	const numWorkers = 8
	for i := 0; i < b.N; i++ {
		jobs := make(chan int, numTasks)
		var wg sync.WaitGroup
		wg.Add(numWorkers)
		for w := 0; w < numWorkers; w++ {
			go func() {
				defer wg.Done()
				for n := range jobs {
					doTask(n)
				}
			}()
		}
		for j := 0; j < numTasks; j++ {
			jobs <- workLoad
		}
		close(jobs)
		wg.Wait()
	}
}

// ---- beside the seed's pair -------------------------------------------------

// Every body below calls doTask exactly as the seed's pair does, as a
// statement whose result is dropped, so that each Go row does the same work
// per task as the seed's. What Go 1.19 makes of that call (measured with
// `go test -c` and `go tool objdump`; `make bench-disasm`): doTask is
// inlined and `sum` is deleted as dead, but the counting loop stays:
//     INCQ AX; CMPQ $0x3e8, AX; JL   -- n iterations, ~1 cycle each.
// gort's C doTask keeps its sum (bench/dotask.h); its loop is also ~1 cycle
// per iteration, so the rows compare like for like (Serial shows it).

// sink keeps a result observable where a benchmark has one to keep.
var sink atomic.Int64

// Serial: every task on the calling goroutine.
func BenchmarkSerial(b *testing.B) {
	for i := 0; i < b.N; i++ {
		for j := 0; j < numTasks; j++ {
			doTask(workLoad)
		}
	}
}

// floorTeam is the physical limit: one goroutine per P, started once before
// the timed loop; goroutine 0 is the benchmark's own. Each op, every member
// runs its static share of the tasks; the only synchronisation per op is one
// atomic generation bump to start and one counter to finish, both spun on.
type floorTeam struct {
	gen  atomic.Int64 // bumped by the leader to start an op; -1 stops
	done atomic.Int64 // members (other than the leader) finished this op
	size int
	wg   sync.WaitGroup
}

func share(member, size, tasks, load int) {
	for j := member * tasks / size; j < (member+1)*tasks/size; j++ {
		doTask(load)
	}
}

func newFloorTeam(size, tasks, load int) *floorTeam {
	t := &floorTeam{size: size}
	t.wg.Add(size - 1)
	for m := 1; m < size; m++ {
		m := m
		go func() {
			defer t.wg.Done()
			seen := int64(0)
			spins := 0
			for {
				g := t.gen.Load()
				if g == -1 {
					return
				}
				if g == seen {
					// Spin: a parked member costs a wake-up per op.
					// After a while, yield as gort's floor does.
					if spins++; spins > 4096 {
						runtime.Gosched()
					}
					continue
				}
				spins = 0
				seen = g
				share(m, size, tasks, load)
				t.done.Add(1)
			}
		}()
	}
	return t
}

func (t *floorTeam) run(tasks, load int) {
	t.done.Store(0)
	t.gen.Add(1)
	share(0, t.size, tasks, load)
	for spins := 0; t.done.Load() != int64(t.size-1); spins++ {
		if spins > 4096 {
			runtime.Gosched()
		}
	}
}

func (t *floorTeam) stop() {
	t.gen.Store(-1)
	t.wg.Wait()
}

func BenchmarkParallelFloor(b *testing.B) {
	t := newFloorTeam(runtime.GOMAXPROCS(0), numTasks, workLoad)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.run(numTasks, workLoad)
	}
	b.StopTimer()
	t.stop()
}

// workerPool is the seed's WorkerPool body with the worker count, task count
// and load as parameters (the sweeps and WorkerPoolCores use it).
func workerPool(numWorkers, tasks, load int) {
	jobs := make(chan int, tasks)
	var wg sync.WaitGroup
	wg.Add(numWorkers)
	for w := 0; w < numWorkers; w++ {
		go func() {
			defer wg.Done()
			for n := range jobs {
				doTask(n)
			}
		}()
	}
	for j := 0; j < tasks; j++ {
		jobs <- load
	}
	close(jobs)
	wg.Wait()
}

// naiveSpawn is the seed's NaiveSpawn body with parameters.
func naiveSpawn(tasks, load int) {
	var wg sync.WaitGroup
	wg.Add(tasks)
	for j := 0; j < tasks; j++ {
		go func() {
			defer wg.Done()
			doTask(load)
		}()
	}
	wg.Wait()
}

// WorkerPool with one worker per core instead of the seed's 8.
func BenchmarkWorkerPoolCores(b *testing.B) {
	cores := runtime.NumCPU()
	for i := 0; i < b.N; i++ {
		workerPool(cores, numTasks, workLoad)
	}
}

// errgroup with SetLimit(8): the seed's "Limiting concurrency with errgroup".
func BenchmarkErrgroupLimit8(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var g errgroup.Group
		g.SetLimit(8)
		for j := 0; j < numTasks; j++ {
			g.Go(func() error {
				doTask(workLoad)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}

// The seed's semaphore pattern: a buffered channel of 8 slots, acquired
// inside each spawned goroutine.
func BenchmarkChanSemaphore(b *testing.B) {
	const limit = 8
	for i := 0; i < b.N; i++ {
		sem := make(chan struct{}, limit)
		var wg sync.WaitGroup
		for j := 0; j < numTasks; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				doTask(workLoad)
			}()
		}
		wg.Wait()
	}
}
