/* dotask.c - the seed's doTask, kept honest.
 *
 *     func doTask(n int) int { sum := 0; for i := 0; i < n; i++ { sum += i }; return sum }
 *
 * Left alone, a C compiler deletes the work: clang replaces the loop with
 * n*(n-1)/2, and where the result is unused both compilers drop the call.
 * Two things prevent that here: the empty asm with sum as an in/out operand
 * makes sum opaque after every step (no closed form, no vectorisation, one
 * add per i, as Go compiles it), and callers pass the result to gb_keep(),
 * which needs it in a register. The function is in its own translation unit
 * (no LTO), so callers cannot see through it either.
 *
 * Proof (gcc 12.2 -O2, `make bench-disasm`, i.e. objdump -d of
 * build/<O>/bench/dotask.o):
 *
 *     0000000000000000 <gb_do_task>:
 *        0:   test   %rdi,%rdi
 *        3:   jle    20 <gb_do_task+0x20>
 *        5:   xor    %edx,%edx
 *        7:   xor    %eax,%eax
 *        9:   nopl   0x0(%rax)
 *       10:   add    %rdx,%rax         <- sum += i, every iteration
 *       13:   add    $0x1,%rdx         <- i++
 *       17:   cmp    %rdx,%rdi
 *       1a:   jne    10 <gb_do_task+0x10>
 *       1c:   ret                      <- sum returned in %rax
 *
 * clang 14 -O2 emits the same 4-instruction loop (plus a frame push); the
 * same source without the asm is folded by clang to
 * `lea; lea; mul; shld; lea; add` (no loop at all). So doTask(1000) executes
 * 4 * 1000 + 6 = 4006 instructions, with a loop-carried chain of one add:
 * about one iteration per cycle (this VM has no PMU, so perf stat cannot
 * count them; Serial's time says the same: 10^7 iterations in ~3-4 ms).
 *
 * Go 1.19 compiles the seed's `doTask(workLoad)` (result dropped) to
 *     INCQ AX; NOPW; CMPQ $0x3e8, AX; JL   -- the sum is dead, the loop stays
 * (`go tool objdump -s BenchmarkNaiveSpawn.func1`), also about one iteration
 * per cycle; Serial's rows in C and Go compare the two directly.
 */
#include "bench.h"

long gb_do_task(long n) {
  long sum = 0;
  for (long i = 0; i < n; i++) {
    sum += i;
    __asm__ volatile("" : "+r"(sum));
  }
  return sum;
}
