// park: one million parked goroutines, the same program as gort's
// bench/park/park.c. Spawns N goroutines that each signal a WaitGroup and
// then receive from one shared unbuffered channel; waits for them all to
// have signalled (a goroutine's Done and its receive have no scheduling
// point between them, so they are parked, or about to be on another P);
// reads VmRSS; closes the channel; waits for all to finish.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func statusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && k == field {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

func main() {
	n := 1_000_000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "usage: %s [N>0]\n", os.Args[0])
			os.Exit(2)
		}
		n = v
	}
	gate := make(chan struct{})
	var ready, done sync.WaitGroup
	rss0, pte0 := statusKB("VmRSS"), statusKB("VmPTE")

	t0 := time.Now()
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			ready.Done()
			<-gate
			done.Done()
		}()
	}
	ready.Wait()
	t1 := time.Now()
	rss1, pte1 := statusKB("VmRSS"), statusKB("VmPTE")

	close(gate)
	done.Wait()
	t2 := time.Now()
	rss2 := statusKB("VmRSS")

	fmt.Printf("impl go version=%s GOMAXPROCS=%d\n", runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Printf("tasks %d parked %d\n", n, n)
	fmt.Printf("rss_before_kb %d rss_parked_kb %d rss_after_kb %d\n", rss0, rss1, rss2)
	fmt.Printf("rss_per_parked_task_bytes %.0f\n", float64(rss1-rss0)*1024/float64(n))
	fmt.Printf("pte_per_parked_task_bytes %.0f\n", float64(pte1-pte0)*1024/float64(n))
	fmt.Printf("spawn_and_park_s %.3f release_and_finish_s %.3f total_s %.3f\n",
		t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), t2.Sub(t0).Seconds())
}
