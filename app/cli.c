#include "cli.h"

#include <gio/gio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "osh-default-model.h"
#include "osh-flops.h"
#include "osh-model.h"

#define EDITS_HELP                                                                                 \
  "  --attach LAYER=HEAD   attach a head at LAYER (a nested path is fine); HEAD is seg,\n"         \
  "                        seg:F:K, classifier:N or a chain such as\n"                             \
  "                        conv2d(filters=128,kernel_size=3,padding=same),batchnorm,relu\n"        \
  "  --attach-mode=keras   wire the head as the layer path says, even if that disconnects\n"

static const OshCommand commands[] = {
  { "inspect", "MODEL [--input-shape D,D,...] [--weights] [--json]",
    "layers, shapes and parameters, like Keras model.summary()",
    "  --input-shape D,D,... shapes at these input sizes (once per input; for models whose input\n"
    "                        sizes are open)\n"
    "  --weights             also read the weight values and warn about NaN/Inf\n"
    "  --json                one JSON document on stdout\n",
    osh_cmd_inspect },
  { "check", "MODEL [EDITS] [--fix ID [-o OUT]] [--json]",
    "connectivity report; exit 1 when the graph is disconnected",
    EDITS_HELP
    "  --fix ID              apply one of the fixes the report lists (e.g. flatten:NAME)\n"
    "  -o OUT                with --fix: save the fixed model\n"
    "  --json                one JSON document on stdout\n",
    osh_cmd_check },
  { "run", "MODEL INPUT|FOLDER... [EDITS] [options]", "run the model on images or .npy arrays",
    EDITS_HELP "  --save-outputs DIR    write DIR/<output>.npy for every output\n"
               "  --heatmaps DIR        write a heatmap PNG for every spatial output\n"
               "  --labels FILE         class names, one per line (default: the model's own,\n"
               "                        a labels.txt beside it, ImageNet's for 1000 classes)\n"
               "  --top K               show the K most probable classes (default 5)\n"
               "  --size HxW            picture size (default: the model's input)\n"
               "  --channels 1|3        grayscale or colour (default: the model's input)\n"
               "  --scale S, --offset O pixel v in 0..255 becomes v*S+O (default 1/255 and 0,\n"
               "                        or 1 and 0 when the model starts with Rescaling)\n"
               "  --mean a,b,c          then subtract a per-channel mean\n"
               "  --std a,b,c           and divide by a per-channel std\n"
               "  --resize antialias|tf antialiased bilinear (default) or tf.image.resize's\n"
               "  --threads N           compute threads\n"
               "  --json                one JSON document on stdout\n",
    osh_cmd_run },
  { "attach", "MODEL EDITS -o OUT [--python SNIPPET.py] [--json]",
    "attach heads and save the edited model",
    EDITS_HELP "  -o OUT                the edited model (.keras, .h5, model.json, .onnx)\n"
               "  --python SNIPPET.py   a Keras snippet making the same edit\n"
               "  --json                one JSON document on stdout\n",
    osh_cmd_attach },
  { "fit", "MODEL [EDITS] --data DIR -o OUT [options]",
    "train the trainable head on pictures, the backbone frozen",
    EDITS_HELP "                        (with --attach the model's own layers are frozen)\n"
               "  --data DIR            a folder per class, or pictures with NAME-mask.png\n"
               "                        (or masks/NAME.png); class pictures may have masks\n"
               "  -o OUT                the model with the trained head\n"
               "  --epochs N            passes over the data (default 10)\n"
               "  --batch B             pictures per step (default 32)\n"
               "  --optimizer adam|adamw|sgd  Keras's formulas and defaults (default adam)\n"
               "  --lr X                learning rate (default: adam 0.001, sgd 0.01)\n"
               "  --momentum M, --nesterov  SGD's momentum\n"
               "  --weight-decay W      decoupled decay (default: adamw 0.004, else none)\n"
               "  --schedule cosine     Keras's CosineDecay over the run (or --decay-steps N),\n"
               "                        --cosine-alpha A, --warmup-steps N --warmup-lr X\n"
               "  --clipnorm C | --clipvalue C | --global-clipnorm C  gradient clipping\n"
               "  --loss [OUTPUT=]KIND  cce, softmax-ce, bce, dice, bce-dice or mse\n"
               "  --loss-weight OUTPUT=W  the output's share of the loss (default 1)\n"
               "  --augment flip,shift  seeded copies (--augment-copies N, --shift F)\n"
               "  --save-best           keep the epoch with the lowest val_loss in OUT\n"
               "  --seed S              the shuffling, dropout and augmentation seed (default 1)\n"
               "  --no-shuffle          pictures in sorted order\n"
               "  --val-split F         the share that validates (default 0.2)\n"
               "  --threads N           compute threads (default 1)\n"
               "  --json                the history as one JSON document on stdout\n",
    osh_cmd_fit },
  { "probe", "MODEL [EDITS] --data DIR [options]",
    "fit a probe per layer: how well each layer's features tell the classes apart",
    EDITS_HELP "  --data DIR            a folder per class (pictures with NAME-mask.png: --masks)\n"
               "  --layers SPEC         all (default), every:K or NAME,NAME,...\n"
               "  --head linear|mlp     the probe: linear (default) or one hidden layer of 64\n"
               "  --masks               a 1x1-convolution probe per spatial layer, read as IoU\n"
               "  -o TABLE.csv          the table as CSV too\n"
               "  --render OUT          the graph coloured by accuracy (.png, .svg or .pdf)\n"
               "  --keep LAYER          attach LAYER's linear probe as a head with its weights\n"
               "  --save-model OUT      where --keep saves the model\n"
               "  --epochs N            full-batch Adam steps per probe (default 300)\n"
               "  --val-split F         the share that validates (default 0.2)\n"
               "  --seed S              the split's seed (default 1)\n"
               "  --save-features DIR   each layer's features as NAME.npy, labels.npy (masks.npy)\n"
               "  --shuffle-weights S   the control: the model's weights permuted (seed S)\n"
               "  --group-mb M          features kept per pass over the pictures (default 256)\n"
               "  --threads N           compute threads (default 1)\n"
               "  --json                one JSON document on stdout\n",
    osh_cmd_probe },
  { "export", "MODEL [EDITS] [--input-shape D,D,...] -o OUT [--json]",
    "convert to .keras, .h5, TF.js model.json or .onnx (by OUT's name)",
    EDITS_HELP
    "  --input-shape D,D,... fix an input's open sizes, batch included (once per input;\n"
    "                        e.g. 1,256,256,3 for a graph model whose Shape reads them,\n"
    "                        which .onnx needs); the file keeps these sizes\n"
    "  -o OUT                the file to write\n"
    "  --json                one JSON document on stdout\n",
    osh_cmd_export },
  { "render", "MODEL [EDITS] -o OUT [options]", "draw the layer graph to .png, .svg, .pdf or .dot",
    EDITS_HELP
    "  -o OUT                the picture to write (.png, .svg, .pdf, or .dot: the DOT text)\n"
    "  --collapse GROUP      draw a nested model or block (e.g. block5a) as one box\n"
    "  --expand GROUP        open a group (and the groups around it)\n"
    "  --collapse-blocks     draw every repeated block and ONNX module as one box\n"
    "  --expand-all          every layer, even of a graph over 200 layers (which is drawn\n"
    "                        collapsed into stages and blocks, as the window opens it)\n"
    "  --expand-path LAYER   open the groups on the paths from the inputs to LAYER\n"
    "  --scale S             pixels per point for PNG (default 1; at most 16384 px a side)\n"
    "  --dark                the dark palette\n"
    "  --json                one JSON document on stdout\n",
    osh_cmd_render },
  { "bench", "MODEL [--runs N] [--threads N] [--input-shape D,D,...] [--steps] [--json]",
    "time inference against a same-run sgemm baseline",
    "  --runs N              timed runs (default 10)\n"
    "  --input-shape D,D,... the full shape of an input, batch included (once per input; needed\n"
    "                        when the model leaves sizes open)\n"
    "  --threads N           compute threads (default 1)\n"
    "  --steps               list every step with its time and GFLOPS\n"
    "  --json                one JSON document on stdout\n",
    osh_cmd_bench },
  { "zoo", "NAME -o OUT [options] | --list", "write an untrained keras.applications architecture",
    "  -o OUT                the model file to write (without it: only the summary)\n"
    "  --list                the architectures and their default input sizes\n"
    "  --no-top              without the classifier (--include-top: with it, the default)\n"
    "  --input-shape H,W,C   the input size (default: Keras's for the architecture)\n"
    "  --classes N           classifier outputs (default 1000)\n"
    "  --seed N              seed of the random weights (default 1)\n"
    "  --json                one JSON document on stdout\n",
    osh_cmd_zoo },
  { "samples", "-o DIR [--train N [--seed S]] [--json]",
    "write the tour's model.h5 and the sample images with their masks, or a training set",
    "  -o DIR                the folder to write into\n"
    "  --train N             instead: N new pictures of the default model's shapes with their\n"
    "                        masks, DIR/CLASS/NNNN.png + NNNN-mask.png (what fit --data reads)\n"
    "  --seed S              the training set's seed (default 1; the same seed, the same files)\n"
    "  --json                one JSON document on stdout\n",
    osh_cmd_samples },
};

const OshCommand *
osh_cli_find (const char *name)
{
  for (size_t i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

void
osh_cli_print_help (FILE *out)
{
  fprintf (out,
           "Usage: offshoot [MODEL]             open the window (the default model without MODEL)\n"
           "       offshoot COMMAND [ARGS...]\n\n"
           "Look inside trained vision models, attach auxiliary heads, explain\n"
           "\"Graph disconnected\" and run inference.\n\nCommands:\n");
  for (size_t i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf (out,
           "\nMODEL is a .keras, .h5/.hdf5, TF.js model.json or .onnx file, or @default.\n"
           "Run 'offshoot COMMAND --help' for a command's options.\n"
           "Every command takes --json: one JSON document on stdout (errors too).\n"
           "Exit codes: 0 success, 1 disconnected model or failed run, 2 bad usage or input.\n");
}

void
osh_cli_print_command_help (const OshCommand *cmd, FILE *out)
{
  fprintf (out, "Usage: offshoot %s %s\n\n%s.\n", cmd->name, cmd->synopsis, cmd->summary);
  if (cmd->details)
    fprintf (out, "\nOptions:\n%s", cmd->details);
}

int
osh_cli_parse_sizes (const char *text, int64_t *v, int max)
{
  char **parts = g_strsplit (text, ",", -1);
  int n = (int) g_strv_length (parts);
  bool ok = n >= 1 && n <= max;
  for (int i = 0; ok && i < n; i++)
    {
      char *end = NULL;
      v[i] = g_ascii_strtoll (g_strstrip (parts[i]), &end, 10);
      ok = end && end != parts[i] && *end == '\0' && v[i] > 0;
    }
  g_strfreev (parts);
  return ok ? n : 0;
}

int
osh_cli_input_shape_option (int argc, char **argv, int *i, OshShape *shapes, int *n, int max)
{
  const char *arg = argv[*i];
  if (strcmp (arg, "--input-shape") != 0 && !g_str_has_prefix (arg, "--input-shape="))
    return 0;
  const char *v = arg[13] == '=' ? arg + 14 : *i + 1 < argc ? argv[++*i] : NULL;
  int64_t dims[OSH_MAX_RANK];
  int rank = v ? osh_cli_parse_sizes (v, dims, OSH_MAX_RANK) : 0;
  if (!rank || *n >= max)
    {
      char what[96];
      snprintf (what, sizeof what, "sizes such as 1,3,224,224 (at most %d inputs)", max);
      return osh_cli_bad_value (argv[0], "--input-shape", v, what);
    }
  shapes[(*n)++] = osh_shape_make (rank, dims);
  return 1;
}

void
osh_cli_example_shape (const OshGraph *g, char *buf, size_t size)
{
  /* The sizes a FLOP count uses (osh-flops.h), so the example and inspect's FLOPs agree. */
  OshShape s = { 0 };
  osh_graph_proposed_input_shapes (g, 1, &s, 1);
  size_t used = 0;
  buf[0] = '\0';
  for (int d = 0; d < s.rank && used < size; d++)
    used +=
        (size_t) snprintf (buf + used, size - used, "%s%lld", d ? "," : "", (long long) s.dim[d]);
}

/* Set by osh_cli_main when the command line holds --json: errors are JSON documents too. */
static bool json_mode;

bool
osh_cli_json_mode (void)
{
  return json_mode;
}

void
osh_cli_print_json (json_t *doc)
{
  char *text =
      doc ? json_dumps (doc, JSON_INDENT (1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (7))
          : NULL;
  printf ("%s\n", text ? text : "null");
  free (text);
  json_decref (doc);
}

/* The error on stderr, and with --json also as the one document on stdout:
 * {"error": {"command", "kind", "message"}, "exit": code}. */
static int
print_error (const char *cmd, const char *kind, const char *message, bool usage, int code)
{
  fprintf (stderr, "offshoot %s: %s\n", cmd, message);
  if (usage)
    fprintf (stderr, "Try 'offshoot %s --help'.\n", cmd);
  if (json_mode)
    osh_cli_print_json (json_pack ("{s:{s:s, s:s, s:s}, s:i}", "error", "command", cmd, "kind",
                                   kind, "message", message, "exit", code));
  return code;
}

int
osh_cli_usage_error (const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  print_error (cmd, "usage", message, true, OSH_EXIT_USAGE);
  g_free (message);
  return OSH_EXIT_USAGE;
}

int
osh_cli_bad_value (const char *cmd, const char *option, const char *value, const char *wanted)
{
  return osh_cli_usage_error (cmd, "%s takes %s, not '%s'", option, wanted, value ? value : "");
}

int
osh_cli_report_code (const char *cmd, const OshError *err, int code)
{
  return print_error (cmd, osh_error_code_name (err->code), err->message, false, code);
}

int
osh_cli_report (const char *cmd, const OshError *err)
{
  switch (err->code)
    {
    case OSH_ERR_DISCONNECTED:
    case OSH_ERR_SHAPE:
    case OSH_ERR_CANCELLED: return osh_cli_report_code (cmd, err, OSH_EXIT_MODEL);
    default: return osh_cli_report_code (cmd, err, OSH_EXIT_USAGE);
    }
}

OshGraph *
osh_cli_load_model (const char *spec, OshError *err)
{
  return osh_load_model_spec (spec, err);
}

void
osh_cli_return_free_memory (void)
{
#ifdef __GLIBC__
  malloc_trim (0);
#endif
}

OshGraph *
osh_cli_load_graph (const char *spec, OshError *err)
{
  if (strcmp (spec, "@default") == 0)
    return osh_load_model_spec (spec, err);
  return osh_model_load_graph (spec, err);
}

int
osh_cli_main (int argc, char **argv)
{
  const OshCommand *cmd = osh_cli_find (argv[1]);
  if (!cmd)
    {
      fprintf (stderr, "offshoot: '%s' is not a command.\n\n", argv[1]);
      osh_cli_print_help (stderr);
      return OSH_EXIT_USAGE;
    }
  for (int i = 2; i < argc; i++)
    if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
      {
        osh_cli_print_command_help (cmd, stdout);
        return OSH_EXIT_OK;
      }
  for (int i = 2; i < argc; i++)
    json_mode |= strcmp (argv[i], "--json") == 0;
  return cmd->run (argc - 1, argv + 1);
}

bool
osh_cli_read_data (const char *dir, OshFitData *data, OshError *err)
{
  bool ok = osh_fit_data_read (dir, data, err);
  if (data->skipped_pictures)
    fprintf (stderr, "offshoot: skipped pictures without a mask: %s\n", data->skipped_pictures);
  if (data->skipped_masks)
    fprintf (stderr, "offshoot: skipped masks without their picture: %s\n", data->skipped_masks);
  return ok;
}
