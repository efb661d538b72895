/* osh-camera.c — centre, zoom and view size; world↔view mapping. */
#include "osh-camera.h"

#include <math.h>

/* Text is readable at zoom 1 (layout units are points); 8× is plenty for inspecting a box. */
#define MAX_ZOOM 8.0
/* At the smallest zoom the whole graph fits in a quarter of the fitting size. */
#define MIN_ZOOM_OF_FIT 0.25
#define FIT_MARGIN 24.0

void
osh_camera_init (OshCamera *vp)
{
  *vp = (OshCamera){ .zoom = 1.0,
                     .view_w = 1,
                     .view_h = 1,
                     .world_w = 1,
                     .world_h = 1,
                     .min_zoom = 0.01,
                     .max_zoom = MAX_ZOOM };
  vp->cx = 0.5;
  vp->cy = 0.5;
}

static double
clampd (double v, double lo, double hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

void
osh_camera_clamp (OshCamera *vp)
{
  vp->zoom = clampd (vp->zoom, vp->min_zoom, vp->max_zoom);
  vp->cx = clampd (vp->cx, vp->world_x, vp->world_x + vp->world_w);
  vp->cy = clampd (vp->cy, vp->world_y, vp->world_y + vp->world_h);
}

static void
update_limits (OshCamera *vp)
{
  double fit = osh_camera_fit_zoom (vp);
  vp->max_zoom = fmax (MAX_ZOOM, fit);
  vp->min_zoom = fmin (fit * MIN_ZOOM_OF_FIT, vp->max_zoom);
}

void
osh_camera_set_view_size (OshCamera *vp, double w, double h)
{
  vp->view_w = fmax (w, 1.0);
  vp->view_h = fmax (h, 1.0);
  update_limits (vp);
  osh_camera_clamp (vp);
}

void
osh_camera_set_world (OshCamera *vp, double x, double y, double w, double h)
{
  vp->world_x = x;
  vp->world_y = y;
  vp->world_w = fmax (w, 1.0);
  vp->world_h = fmax (h, 1.0);
  update_limits (vp);
  osh_camera_clamp (vp);
}

void
osh_camera_world_to_view (const OshCamera *vp, double wx, double wy, double *vx, double *vy)
{
  *vx = (wx - vp->cx) * vp->zoom + vp->view_w / 2;
  *vy = (wy - vp->cy) * vp->zoom + vp->view_h / 2;
}

void
osh_camera_view_to_world (const OshCamera *vp, double vx, double vy, double *wx, double *wy)
{
  *wx = (vx - vp->view_w / 2) / vp->zoom + vp->cx;
  *wy = (vy - vp->view_h / 2) / vp->zoom + vp->cy;
}

OshCameraTransform
osh_camera_transform (const OshCamera *vp)
{
  return (OshCameraTransform){ .scale = vp->zoom,
                               .offset_x = vp->view_w / 2 - vp->cx * vp->zoom,
                               .offset_y = vp->view_h / 2 - vp->cy * vp->zoom };
}

void
osh_camera_visible (const OshCamera *vp, double *x, double *y, double *w, double *h)
{
  osh_camera_view_to_world (vp, 0, 0, x, y);
  *w = vp->view_w / vp->zoom;
  *h = vp->view_h / vp->zoom;
}

double
osh_camera_fit_zoom (const OshCamera *vp)
{
  double aw = fmax (vp->view_w - 2 * FIT_MARGIN, 1.0);
  double ah = fmax (vp->view_h - 2 * FIT_MARGIN, 1.0);
  return fmin (aw / vp->world_w, ah / vp->world_h);
}

void
osh_camera_fit (OshCamera *vp)
{
  vp->zoom = fmin (osh_camera_fit_zoom (vp), 1.5); /* a tiny graph is not blown up */
  vp->cx = vp->world_x + vp->world_w / 2;
  vp->cy = vp->world_y + vp->world_h / 2;
  osh_camera_clamp (vp);
}

/* Below this zoom box titles are too small to read. */
#define READABLE_ZOOM 0.5
#define HOME_ZOOM 0.8

void
osh_camera_home (OshCamera *vp)
{
  osh_camera_fit (vp);
  if (vp->zoom >= READABLE_ZOOM)
    return;
  vp->zoom = fmin (HOME_ZOOM, vp->max_zoom);
  vp->cx = vp->world_x + vp->world_w / 2;
  vp->cy = vp->world_y + (vp->view_h / 2 - FIT_MARGIN) / vp->zoom;
  osh_camera_clamp (vp);
}

void
osh_camera_zoom_at (OshCamera *vp, double factor, double vx, double vy)
{
  double wx, wy;
  osh_camera_view_to_world (vp, vx, vy, &wx, &wy);
  vp->zoom = clampd (vp->zoom * factor, vp->min_zoom, vp->max_zoom);
  /* Put (wx, wy) back under (vx, vy). */
  vp->cx = wx - (vx - vp->view_w / 2) / vp->zoom;
  vp->cy = wy - (vy - vp->view_h / 2) / vp->zoom;
  osh_camera_clamp (vp);
}

void
osh_camera_pan (OshCamera *vp, double dx, double dy)
{
  vp->cx -= dx / vp->zoom;
  vp->cy -= dy / vp->zoom;
  osh_camera_clamp (vp);
}

void
osh_camera_center_on (OshCamera *vp, double wx, double wy, double zoom)
{
  if (zoom > 0)
    vp->zoom = zoom;
  vp->cx = wx;
  vp->cy = wy;
  osh_camera_clamp (vp);
}

double
osh_ease_in_out (double t)
{
  t = clampd (t, 0, 1);
  return t < 0.5 ? 4 * t * t * t : 1 - pow (-2 * t + 2, 3) / 2;
}

void
osh_camera_fly (const OshCamera *from, const OshCamera *to, double t, OshCamera *out)
{
  double e = osh_ease_in_out (t);
  *out = *to;
  out->cx = from->cx + (to->cx - from->cx) * e;
  out->cy = from->cy + (to->cy - from->cy) * e;
  /* Zoom interpolates geometrically; when the target is more than a view away, dip to a
   * zoom at which both ends are on screen at once, like xdot.py does. */
  double z = exp (log (from->zoom) + (log (to->zoom) - log (from->zoom)) * e);
  double dist = hypot (to->cx - from->cx, to->cy - from->cy);
  double span = fmax (from->view_w, from->view_h);
  double zmin = fmin (from->zoom, to->zoom);
  if (dist * zmin > span * 0.5)
    {
      double z_both = fmax (span * 0.5 / fmax (dist, 1e-9), from->min_zoom);
      double dip = sin (M_PI * e);
      z = exp (log (z) * (1 - dip) + log (fmin (z, z_both)) * dip);
    }
  out->zoom = clampd (z, out->min_zoom, out->max_zoom);
}
