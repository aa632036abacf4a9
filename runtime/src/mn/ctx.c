/* ctx.c - gort's own context switch: callee-saved registers pushed on the
 * outgoing stack, stack pointers swapped, registers popped. No ucontext: its
 * sigprocmask syscall per switch costs ~620 ns against ~14 ns here. Signal
 * masks are per thread and stay with the worker.
 *
 * Frame left by gort__ctx_switch (and built by gort__ctx_make), low to high:
 *   x86-64:  [mxcsr|x87 cw] r15 r14 r13 r12 rbx rbp  return-address
 *   aarch64: x19..x28 x29 x30(return) d8..d15
 * A fresh context "returns" into gort__ctx_trampoline, which calls
 * entry(arg) (held in r13/r12, or x20/x19) on an ABI-aligned stack.
 */
#include <string.h>

#include "mn/mn.h"

#if defined(__x86_64__)
__asm__(".pushsection .text\n"
        ".globl gort__ctx_switch\n"
        ".hidden gort__ctx_switch\n"
        ".type gort__ctx_switch,@function\n"
        "gort__ctx_switch:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size gort__ctx_switch,.-gort__ctx_switch\n"
        ".globl gort__ctx_trampoline\n"
        ".hidden gort__ctx_trampoline\n"
        ".type gort__ctx_trampoline,@function\n"
        "gort__ctx_trampoline:\n"
        "  movq %r12, %rdi\n"
        "  callq *%r13\n"
        "  ud2\n"
        ".size gort__ctx_trampoline,.-gort__ctx_trampoline\n"
        ".popsection\n");

void gort__ctx_trampoline(void);

void *gort__ctx_make(char *top, void (*entry)(void *), void *arg) {
  uintptr_t s = (uintptr_t)top & ~(uintptr_t)15;
  uint64_t *f = (uint64_t *)(s - 64);
  memset(f, 0, 64);
  f[0] = 0x1F80ull | (0x037Full << 32); /* default mxcsr, x87 control word */
  f[3] = (uint64_t)(uintptr_t)entry; /* r13 */
  f[4] = (uint64_t)(uintptr_t)arg;   /* r12 */
  f[7] = (uint64_t)(uintptr_t)gort__ctx_trampoline; /* return address; rbp (f[6]) 0 ends backtraces */
  return f;
}

#elif defined(__aarch64__)
__asm__(".pushsection .text\n"
        ".globl gort__ctx_switch\n"
        ".hidden gort__ctx_switch\n"
        ".type gort__ctx_switch,%function\n"
        "gort__ctx_switch:\n"
        "  sub sp, sp, #160\n"
        "  stp x19, x20, [sp, #0]\n"
        "  stp x21, x22, [sp, #16]\n"
        "  stp x23, x24, [sp, #32]\n"
        "  stp x25, x26, [sp, #48]\n"
        "  stp x27, x28, [sp, #64]\n"
        "  stp x29, x30, [sp, #80]\n"
        "  stp d8, d9, [sp, #96]\n"
        "  stp d10, d11, [sp, #112]\n"
        "  stp d12, d13, [sp, #128]\n"
        "  stp d14, d15, [sp, #144]\n"
        "  mov x9, sp\n"
        "  str x9, [x0]\n"
        "  mov sp, x1\n"
        "  ldp x19, x20, [sp, #0]\n"
        "  ldp x21, x22, [sp, #16]\n"
        "  ldp x23, x24, [sp, #32]\n"
        "  ldp x25, x26, [sp, #48]\n"
        "  ldp x27, x28, [sp, #64]\n"
        "  ldp x29, x30, [sp, #80]\n"
        "  ldp d8, d9, [sp, #96]\n"
        "  ldp d10, d11, [sp, #112]\n"
        "  ldp d12, d13, [sp, #128]\n"
        "  ldp d14, d15, [sp, #144]\n"
        "  add sp, sp, #160\n"
        "  ret\n"
        ".size gort__ctx_switch,.-gort__ctx_switch\n"
        ".globl gort__ctx_trampoline\n"
        ".hidden gort__ctx_trampoline\n"
        ".type gort__ctx_trampoline,%function\n"
        "gort__ctx_trampoline:\n"
        "  mov x0, x19\n"
        "  blr x20\n"
        "  brk #0\n"
        ".size gort__ctx_trampoline,.-gort__ctx_trampoline\n"
        ".popsection\n");

void gort__ctx_trampoline(void);

void *gort__ctx_make(char *top, void (*entry)(void *), void *arg) {
  uintptr_t s = (uintptr_t)top & ~(uintptr_t)15;
  uint64_t *f = (uint64_t *)(s - 160);
  memset(f, 0, 160);
  f[0] = (uint64_t)(uintptr_t)arg;   /* x19 */
  f[1] = (uint64_t)(uintptr_t)entry; /* x20 */
  f[11] = (uint64_t)(uintptr_t)gort__ctx_trampoline; /* x30; x29 (f[10]) 0 ends backtraces */
  return f;
}

#else
#error "the M:N backend has a context switch for x86-64 and aarch64 only"
#endif
