/* osh-workers.h — work the window hands to threads keeps the application alive until its
 * result is back on the main thread, so closing a window mid-work never exits the process
 * under a running worker (OpenBLAS, HDF5 and graphviz tear down their state at exit).
 *
 *   osh_worker_begin ();                          // main thread, as the task starts
 *   g_task_run_in_thread (task, work);            // the worker checks its cancel flag
 *   ...
 *   static void done (GObject *src, GAsyncResult *res, gpointer data)
 *   {
 *     g_autoptr (GError) error = NULL;
 *     Result *r = g_task_propagate_pointer (G_TASK (res), &error);
 *     osh_worker_end (error);                     // always, even when cancelled
 *     ...
 *   }
 *
 * While any worker is in flight the default GApplication is held: g_application_run
 * returns only after every worker finished and its result was dropped or shown.
 */
#pragma once

#include <glib.h>

void osh_worker_begin (void);
/* `error` is the worker's (NULL when it succeeded): G_IO_ERROR_CANCELLED means it noticed
 * the cancellation and stopped early. */
void osh_worker_end (const GError *error);
/* Workers started and not yet ended (main thread). */
int osh_workers_in_flight (void);
/* Workers that stopped early because they were cancelled, since the process started. */
int osh_workers_stopped_early (void);
