/* Minimal Cortex-M start-up for `make m55` / `m4` / `m7`: a vector table holding the
 * initial stack pointer and the reset handler, which enables the FPU (and MVE) and enters
 * newlib's semihosting start-up `_start` (rdimon), which calls main(); and the SysTick
 * handler that counts the timer's wraps (main.c's instruction count enables it). */
#include <stdint.h>

extern uint32_t __stack_top;
extern void _start(void);
extern void _exit(int status);

void rn_reset_handler(void);
void rn_fault_handler(void);
void rn_systick_handler(void);

volatile uint32_t rn_systick_wraps;

void rn_reset_handler(void) {
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  _start();
  for (;;) {
  }
}

void rn_fault_handler(void) { _exit(99); }

void rn_systick_handler(void) { ++rn_systick_wraps; }

typedef void (*rn_vector)(void);
__attribute__((section(".vectors"), used)) const rn_vector rn_vectors[16] = {
    (rn_vector)(uintptr_t)&__stack_top, rn_reset_handler, rn_fault_handler,
    rn_fault_handler, rn_fault_handler, rn_fault_handler, rn_fault_handler, 0, 0, 0, 0,
    rn_fault_handler, rn_fault_handler, 0, rn_fault_handler, rn_systick_handler};
