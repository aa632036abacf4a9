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
 * Proof (gcc 12.2 -O2, `objdump -d --no-show-raw-insn build/bench/bench/dotask.o`):
 *
 *     0000000000000000 <gb_do_task>:
 *        0:   test   %rdi,%rdi
 *        3:   jle    18 <gb_do_task+0x18>
 *        5:   xor    %eax,%eax
 *        7:   xor    %edx,%edx
 *        9:   nopl   0x0(%rax)
 *       10:   add    %rax,%rdx         <- sum += i, every iteration
 *       13:   add    $0x1,%rax
 *       17:   cmp    %rax,%rdi
 *       1a:   jne    10 <gb_do_task+0x10>
 *       ...
 *
 * i.e. a 4-instruction loop run n times (perf stat: ~4.0e3 instructions per
 * doTask(1000)). Go 1.19 compiles the seed's `doTask(workLoad)` (result
 * dropped) to a 3-instruction counting loop (INCQ; CMPQ $0x3e8; JL: the sum
 * is dead, the loop stays); both run at about one iteration per cycle, which
 * Serial's rows in C and Go confirm. bench.mk's `bench-disasm` target
 * prints both listings again.
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
