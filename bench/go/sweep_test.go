// Sweeps of the seed's pair over numTasks x workLoad, and the I/O-bound
// variant where each task blocks ~1 ms. Names match gort's (bench/sweep.c).
package gortbench

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

var sweepTasks = []int{100, 1_000, 10_000, 100_000}
var sweepLoads = []int{0, 100, 1_000, 10_000}

func sweep(b *testing.B, body func(tasks, load int)) {
	for _, n := range sweepTasks {
		for _, l := range sweepLoads {
			n, l := n, l
			b.Run(fmt.Sprintf("tasks:%d/load:%d", n, l), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					body(n, l)
				}
			})
		}
	}
}

func BenchmarkNaiveSpawnSweep(b *testing.B) { sweep(b, naiveSpawn) }

func BenchmarkWorkerPoolSweep(b *testing.B) {
	sweep(b, func(tasks, load int) { workerPool(8, tasks, load) })
}

const ioBlock = time.Millisecond

var ioTasks = []int{100, 1_000}

func BenchmarkNaiveSpawnIO(b *testing.B) {
	for _, n := range ioTasks {
		n := n
		b.Run(fmt.Sprintf("tasks:%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				wg.Add(n)
				for j := 0; j < n; j++ {
					go func() {
						defer wg.Done()
						time.Sleep(ioBlock)
					}()
				}
				wg.Wait()
			}
		})
	}
}

func BenchmarkWorkerPoolIO(b *testing.B) {
	const numWorkers = 8
	for _, n := range ioTasks {
		n := n
		b.Run(fmt.Sprintf("tasks:%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				jobs := make(chan time.Duration, n)
				var wg sync.WaitGroup
				wg.Add(numWorkers)
				for w := 0; w < numWorkers; w++ {
					go func() {
						defer wg.Done()
						for d := range jobs {
							time.Sleep(d)
						}
					}()
				}
				for j := 0; j < n; j++ {
					jobs <- ioBlock
				}
				close(jobs)
				wg.Wait()
			}
		})
	}
}
