/* The viewport keeps the point under the cursor fixed, clamps, fits and flies. */
#include <math.h>

#include "osh-camera.h"
#include "osh-test.h"

static OshCamera
make (void)
{
  OshCamera vp;
  osh_camera_init (&vp);
  osh_camera_set_view_size (&vp, 800, 600);
  osh_camera_set_world (&vp, 0, 0, 2000, 9000);
  osh_camera_fit (&vp);
  return vp;
}

static void
test_roundtrip (void)
{
  OshCamera vp = make ();
  osh_camera_zoom_at (&vp, 3.0, 100, 50);
  double vx, vy, wx, wy;
  osh_camera_view_to_world (&vp, 123.5, 456.25, &wx, &wy);
  osh_camera_world_to_view (&vp, wx, wy, &vx, &vy);
  g_assert_cmpfloat_with_epsilon (vx, 123.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (vy, 456.25, 1e-9);
  /* The cairo transform maps the same way. */
  OshCameraTransform t = osh_camera_transform (&vp);
  g_assert_cmpfloat_with_epsilon (wx * t.scale + t.offset_x, 123.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (wy * t.scale + t.offset_y, 456.25, 1e-9);
}

static void
test_fit (void)
{
  OshCamera vp = make ();
  /* 9000 world units tall into 600 - 2·24 pixels. */
  g_assert_cmpfloat_with_epsilon (vp.zoom, 552.0 / 9000.0, 1e-12);
  double x, y, w, h;
  osh_camera_visible (&vp, &x, &y, &w, &h);
  g_assert_cmpfloat (y, <, 0);
  g_assert_cmpfloat (y + h, >, 9000);
  g_assert_cmpfloat_with_epsilon (x + w / 2, 1000, 1e-9);
}

static void
test_home (void)
{
  /* A tall graph starts readable, inputs at the top. */
  OshCamera vp = make ();
  osh_camera_home (&vp);
  g_assert_cmpfloat (vp.zoom, ==, 0.8);
  double vx, vy;
  osh_camera_world_to_view (&vp, 1000, 0, &vx, &vy);
  g_assert_cmpfloat_with_epsilon (vx, 400, 1e-9);
  g_assert_cmpfloat_with_epsilon (vy, 24, 1e-9);
  /* A small one is simply fitted. */
  osh_camera_set_world (&vp, 0, 0, 300, 200);
  osh_camera_home (&vp);
  g_assert_cmpfloat (vp.zoom, ==, 1.5);
  g_assert_cmpfloat_with_epsilon (vp.cx, 150, 1e-9);
}

static void
test_zoom_keeps_point_under_cursor (void)
{
  OshCamera vp = make ();
  double before_x, before_y, after_x, after_y;
  osh_camera_view_to_world (&vp, 400, 300, &before_x, &before_y);
  osh_camera_zoom_at (&vp, 1.25, 400, 300);
  osh_camera_view_to_world (&vp, 400, 300, &after_x, &after_y);
  g_assert_cmpfloat_with_epsilon (after_x, before_x, 1e-9);
  g_assert_cmpfloat_with_epsilon (after_y, before_y, 1e-9);
  /* Off-centre, far from the edges of the world. */
  osh_camera_zoom_at (&vp, 4.0, 400, 300);
  osh_camera_view_to_world (&vp, 250, 180, &before_x, &before_y);
  osh_camera_zoom_at (&vp, 1.5, 250, 180);
  osh_camera_view_to_world (&vp, 250, 180, &after_x, &after_y);
  g_assert_cmpfloat_with_epsilon (after_x, before_x, 1e-9);
  g_assert_cmpfloat_with_epsilon (after_y, before_y, 1e-9);
}

static void
test_clamping (void)
{
  OshCamera vp = make ();
  for (int i = 0; i < 100; i++)
    osh_camera_zoom_at (&vp, 2.0, 400, 300);
  g_assert_cmpfloat (vp.zoom, ==, vp.max_zoom);
  for (int i = 0; i < 100; i++)
    osh_camera_zoom_at (&vp, 0.5, 400, 300);
  g_assert_cmpfloat (vp.zoom, ==, vp.min_zoom);
  g_assert_cmpfloat (vp.min_zoom, >, 0);
  /* A huge drag cannot take the graph out of sight: the centre stays on the world box. */
  osh_camera_pan (&vp, -1e9, 1e9);
  g_assert_cmpfloat (vp.cx, ==, 2000);
  g_assert_cmpfloat (vp.cy, ==, 0);
}

static void
test_pan_direction (void)
{
  OshCamera vp = make ();
  osh_camera_zoom_at (&vp, 10, 400, 300);
  double x0, y0, x1, y1;
  osh_camera_view_to_world (&vp, 400, 300, &x0, &y0);
  osh_camera_pan (&vp, 50, 20); /* drag right and down */
  osh_camera_view_to_world (&vp, 450, 320, &x1, &y1);
  g_assert_cmpfloat_with_epsilon (x1, x0, 1e-9);
  g_assert_cmpfloat_with_epsilon (y1, y0, 1e-9);
}

static void
test_fly (void)
{
  OshCamera from = make (), to = make (), mid;
  osh_camera_center_on (&from, 100, 100, 2.0);
  osh_camera_center_on (&to, 1900, 8800, 2.0);
  osh_camera_fly (&from, &to, 0, &mid);
  g_assert_cmpfloat_with_epsilon (mid.cx, 100, 1e-9);
  g_assert_cmpfloat_with_epsilon (mid.zoom, 2.0, 1e-9);
  osh_camera_fly (&from, &to, 1, &mid);
  g_assert_cmpfloat_with_epsilon (mid.cy, 8800, 1e-9);
  g_assert_cmpfloat_with_epsilon (mid.zoom, 2.0, 1e-9);
  /* Mid-flight it zooms out so both ends could be seen. */
  osh_camera_fly (&from, &to, 0.5, &mid);
  g_assert_cmpfloat (mid.zoom, <, 0.5);
  g_assert_cmpfloat_with_epsilon (osh_ease_in_out (0.5), 0.5, 1e-12);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/camera/roundtrip", test_roundtrip);
  g_test_add_func ("/ui/camera/fit", test_fit);
  g_test_add_func ("/ui/camera/home", test_home);
  g_test_add_func ("/ui/camera/zoom-keeps-point-under-cursor", test_zoom_keeps_point_under_cursor);
  g_test_add_func ("/ui/camera/clamping", test_clamping);
  g_test_add_func ("/ui/camera/pan-direction", test_pan_direction);
  g_test_add_func ("/ui/camera/fly-to", test_fly);
  return g_test_run ();
}
