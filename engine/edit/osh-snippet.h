/* osh-snippet.h — the Keras Python code that makes the same edit on the user's own model.
 *
 *   OshSnippetHead head = { "efficientnetb7/block5a_expand_conv", &spec, names };
 *   char *py = osh_snippet_python (g, &head, 1, "model.h5", "model_aux.keras", &err);
 *   // load_model, the tapped tensor from the SAME instance, the head layers with the names
 *   // and configs Offshoot gave them, keras.Model(model.inputs, model.outputs + [aux_1]), save
 *   free (py);
 *
 * The code is the corrected one a StackOverflow answer would give: a layer inside a nested
 * model is read through a sub-model of that very instance (keras.Model(inner.input, ...))
 * called on the tensor the outer model feeds it, so the graph stays connected.
 */
#pragma once

#include "osh-heads.h"

typedef struct
{
  const char *path; /* where the head is attached, as given to osh_head_attach */
  const OshHeadSpec *spec;
  char *const *names; /* spec->n_steps layer names returned by osh_head_attach */
} OshSnippetHead;

/* `g` is the model before the edits. Returns malloc'd Python source, or NULL with err set
 * (a layer nested more than one model deep, or a path that does not exist). */
char *osh_snippet_python (const OshGraph *g, const OshSnippetHead *heads, int n_heads,
                          const char *model_path, const char *save_path, OshError *err);
