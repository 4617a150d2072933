#include <graphviz/gvc.h>
#include <graphviz/cgraph.h>
static inline Agraph_t *cg_open_digraph(const char *n) { return agopen((char *)n, Agdirected, NULL); }
static inline Agnode_t *cg_node(Agraph_t *g, const char *n) { return agnode(g, (char *)n, 1); }
static inline Agedge_t *cg_edge(Agraph_t *g, Agnode_t *t, Agnode_t *h, const char *n) {
  return agedge(g, t, h, (char *)n, 1);
}
static inline int cg_set(void *o, const char *k, const char *v) {
  return agsafeset(o, (char *)k, (char *)v, (char *)"");
}
