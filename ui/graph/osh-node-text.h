/* osh-node-text.h — the text inside a layer box: built, measured and drawn the same way by
 * the layout (box sizes) and the scene (drawing), so boxes always fit their labels.
 * Internal to ui/graph.
 *
 *   PangoContext *ctx = osh_node_text_context ();
 *   PangoLayout *pl = osh_node_text_layout (ctx, "conv1", "Conv2D", "(None, 32, 32, 8)", 80);
 *   double w, h;
 *   osh_node_text_box_size (pl, &w, &h);      // the box that holds it, padding included
 *   g_object_unref (pl);
 *   g_object_unref (ctx);
 */
#pragma once

#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdint.h>

#define OSH_NODE_PAD_X 8.0
#define OSH_NODE_PAD_Y 4.0
#define OSH_NODE_MIN_W 96.0

/* A context with metric hinting off, so text scales smoothly with the view. */
PangoContext *osh_node_text_context (void);

/* Three lines: the title in bold, the class, then the shape and parameter count. */
PangoLayout *osh_node_text_layout (PangoContext *ctx, const char *title, const char *subtitle,
                                   const char *shape, int64_t params);

/* The third line: "(None, 7, 7, 8)  ·  1.2k params", or "" when there is neither. */
void osh_node_text_third_line (const char *shape, int64_t params, char *buf, size_t size);

/* Text that Pango lays out as one left-to-right line in the label font itself: printable
 * ASCII and the middle dot of the third line. Such a line needs no layout of its own: its
 * place and font are a probe line's, its width that of its glyphs. Other text (other scripts,
 * fallback fonts, line breaks) is laid out. */
bool osh_node_text_is_plain (const char *text);

/* The box size (points) that holds the layout with padding. */
void osh_node_text_box_size (PangoLayout *layout, double *w, double *h);

/* "1.2M", "35.1k", "850"; writes into buf. */
void osh_format_count (int64_t n, char *buf, size_t size);

/* Box sizes without building a layout per box: lines are measured on two reused layouts and
 * repeated lines (class names, shapes) once. Gives what osh_node_text_box_size gives. */
typedef struct _OshNodeMeasure OshNodeMeasure;
OshNodeMeasure *osh_node_measure_new (PangoContext *ctx);
void osh_node_measure_box (OshNodeMeasure *m, const char *title, const char *subtitle,
                           const char *shape, int64_t params, double *w, double *h);
void osh_node_measure_free (OshNodeMeasure *m);
