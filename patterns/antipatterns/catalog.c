/* catalog.c - the anti-pattern catalog, in the order of README.md. */
#include "antipattern.h"

extern const ap_entry ap_leaky_send, ap_forever_loop, ap_recv_no_exit, ap_forgotten_close,
    ap_select_eval_blocks, ap_time_after_loop, ap_missing_cancel, ap_ignores_cancel,
    ap_double_close, ap_send_after_close, ap_wg_done_without_add, ap_sem_release_unheld,
    ap_nil_chan_send, ap_unbuffered_no_receiver, ap_mutex_copy, ap_forgotten_unlock,
    ap_loop_var_capture, ap_wg_add_inside, ap_sleep_sync, ap_swallowed_errors,
    ap_results_missing, ap_shared_counter_race, ap_channel_as_mutex, ap_unbounded_spawn,
    ap_buffer_accumulation, ap_timeout_too_short, ap_blocked_producer, ap_errgroup_one_error,
    ap_semaphore_too_strict, ap_no_graceful_shutdown;

const ap_entry *const ap_catalog[] = {
    /* leaks */
    &ap_leaky_send, &ap_forever_loop, &ap_recv_no_exit, &ap_forgotten_close,
    &ap_select_eval_blocks, &ap_time_after_loop, &ap_missing_cancel, &ap_ignores_cancel,
    /* misuse: Go panics */
    &ap_double_close, &ap_send_after_close, &ap_wg_done_without_add, &ap_sem_release_unheld,
    /* deadlocks */
    &ap_nil_chan_send, &ap_unbuffered_no_receiver, &ap_mutex_copy, &ap_forgotten_unlock,
    /* wrong or missing results, races */
    &ap_loop_var_capture, &ap_wg_add_inside, &ap_sleep_sync, &ap_swallowed_errors,
    &ap_results_missing, &ap_shared_counter_race, &ap_channel_as_mutex,
    /* sizing and flow */
    &ap_unbounded_spawn, &ap_buffer_accumulation, &ap_timeout_too_short, &ap_blocked_producer,
    &ap_errgroup_one_error, &ap_semaphore_too_strict,
    /* shutdown */
    &ap_no_graceful_shutdown,
};

const size_t ap_catalog_len = sizeof ap_catalog / sizeof ap_catalog[0];
