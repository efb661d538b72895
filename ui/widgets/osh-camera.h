/* osh-camera.h — the graph view's viewport object: a centre, a zoom and the
 * view size, kept apart from the widget so it is tested without a display.
 *
 *   OshCamera vp;
 *   osh_camera_init (&vp);
 *   osh_camera_set_view_size (&vp, 800, 600);
 *   osh_camera_set_world (&vp, 0, 0, 2000, 9000);   // the layout's bounding box
 *   osh_camera_fit (&vp);                           // whole graph visible
 *   osh_camera_zoom_at (&vp, 1.25, 400, 120);       // wheel notch under the cursor
 *   double wx, wy;
 *   osh_camera_view_to_world (&vp, 400, 120, &wx, &wy);  // same world point as before
 *
 * Zoom is view pixels per world unit. The zoom stays within [min, max] where the minimum
 * lets the whole world fit (with room to spare) and the maximum shows text large; the
 * centre stays inside the world box so the graph cannot be panned out of sight.
 * The scene (ui/graph/osh-scene.h) draws with a plain offset + scale; osh_camera_transform
 * gives those numbers.
 */
#pragma once

#include <stdbool.h>

typedef struct
{
  double cx, cy;                             /* world point at the centre of the view */
  double zoom;                               /* view pixels per world unit */
  double view_w, view_h;                     /* view size in pixels */
  double world_x, world_y, world_w, world_h; /* content bounds */
  double min_zoom, max_zoom;
} OshCamera;

/* A transform as cairo takes it: view = world * scale + offset. */
typedef struct
{
  double scale;
  double offset_x, offset_y;
} OshCameraTransform;

void osh_camera_init (OshCamera *vp);
void osh_camera_set_view_size (OshCamera *vp, double w, double h);
/* Sets the content bounds and the zoom limits derived from them; keeps centre and zoom
 * (clamped). */
void osh_camera_set_world (OshCamera *vp, double x, double y, double w, double h);

void osh_camera_world_to_view (const OshCamera *vp, double wx, double wy, double *vx, double *vy);
void osh_camera_view_to_world (const OshCamera *vp, double vx, double vy, double *wx, double *wy);
OshCameraTransform osh_camera_transform (const OshCamera *vp);
/* The world rectangle the view shows. */
void osh_camera_visible (const OshCamera *vp, double *x, double *y, double *w, double *h);

/* The zoom at which the whole world fits in the view with a small margin. */
double osh_camera_fit_zoom (const OshCamera *vp);
void osh_camera_fit (OshCamera *vp);
/* The first view of a graph: fitted when that keeps boxes readable, otherwise readable
 * (zoom 0.8) with the top of the graph (the inputs) in view, centred across. */
void osh_camera_home (OshCamera *vp);
/* Multiplies the zoom by `factor` keeping the world point under view point (vx, vy) fixed
 * (as far as the clamping allows). */
void osh_camera_zoom_at (OshCamera *vp, double factor, double vx, double vy);
/* Moves the content by (dx, dy) view pixels: a drag to the right shows what was on the left. */
void osh_camera_pan (OshCamera *vp, double dx, double dy);
/* Centres on a world point at the given zoom (0 keeps the zoom). */
void osh_camera_center_on (OshCamera *vp, double wx, double wy, double zoom);
void osh_camera_clamp (OshCamera *vp);

/* A fly-to frame: t in [0, 1] (eased inside), zooming out mid-flight when the two
 * ends are far apart on screen so the user sees where the view goes. */
void osh_camera_fly (const OshCamera *from, const OshCamera *to, double t, OshCamera *out);
/* Ease-in-out cubic, 0→0, 1→1. */
double osh_ease_in_out (double t);
