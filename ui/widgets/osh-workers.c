/* osh-workers.c — the count of workers in flight and the application hold that goes with it. */
#include "osh-workers.h"

#include <gio/gio.h>

static int in_flight, stopped_early;
static GApplication *held; /* the application held while in_flight > 0 */

void
osh_worker_begin (void)
{
  if (in_flight++ == 0 && (held = g_application_get_default ()))
    {
      g_object_ref (held);
      g_application_hold (held);
    }
}

void
osh_worker_end (const GError *error)
{
  g_return_if_fail (in_flight > 0);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    stopped_early++;
  if (--in_flight == 0 && held)
    {
      g_application_release (held);
      g_clear_object (&held);
    }
}

int
osh_workers_in_flight (void)
{
  return in_flight;
}

int
osh_workers_stopped_early (void)
{
  return stopped_early;
}
