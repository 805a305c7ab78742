package lineage

import (
	"slices"

	"github.com/opencontainers/go-digest"
)

// Upstream returns the keys of every artifact d was made from, directly or through other
// steps, down to raw data and base images: the transitive inputs of d, sorted, without d.
// d may be any digest of the artifact; an unknown one fails with an *UnknownArtifactError.
func (g *Graph) Upstream(d digest.Digest) ([]digest.Digest, error) {
	return g.reach(d, g.in)
}

// Downstream returns the keys of every artifact made from d, directly or through other steps:
// the impact of a bad dataset or a vulnerable base image, sorted, without d.
func (g *Graph) Downstream(d digest.Digest) ([]digest.Digest, error) {
	return g.reach(d, g.out)
}

// reach returns the nodes reachable from d along adj. Node indexes follow the sorted order of
// keys, so sorting indexes sorts digests.
func (g *Graph) reach(d digest.Digest, adj [][]int32) ([]digest.Digest, error) {
	start, err := g.lookup(d)
	if err != nil {
		return nil, err
	}
	visited := make([]bool, len(g.order))
	visited[start] = true
	queue := []int32{int32(start)}
	for i := 0; i < len(queue); i++ {
		for _, m := range adj[queue[i]] {
			if !visited[m] {
				visited[m] = true
				queue = append(queue, m)
			}
		}
	}
	found := queue[1:]
	slices.Sort(found)
	var out []digest.Digest
	if len(found) > 0 {
		out = make([]digest.Digest, len(found))
		for i, n := range found {
			out[i] = g.order[n]
		}
	}
	return out, nil
}

// Path returns a shortest chain of edges leading from the artifact from to the artifact to,
// following the direction of derivation (input to output). Among paths of equal length it
// returns the first in edge order, so the answer is deterministic. from and to may be any of
// their artifacts' digests. The path from an artifact to itself is empty. When no path exists
// the error is a *NoPathError; an unknown digest gives an *UnknownArtifactError.
func (g *Graph) Path(from, to digest.Digest) ([]Edge, error) {
	src, err := g.lookup(from)
	if err != nil {
		return nil, err
	}
	dst, err := g.lookup(to)
	if err != nil {
		return nil, err
	}
	if src == dst {
		return []Edge{}, nil
	}
	via := make([]int32, len(g.order)) // edge index that first reached each node, +1
	via[src] = -1
	queue := []int32{int32(src)}
	for i := 0; i < len(queue) && via[dst] == 0; i++ {
		n := queue[i]
		for j, m := range g.out[n] {
			if via[m] == 0 {
				via[m] = g.outEdge[n][j] + 1
				queue = append(queue, m)
			}
		}
	}
	if via[dst] == 0 {
		return nil, &NoPathError{From: g.order[src], To: g.order[dst]}
	}
	var path []Edge
	for n := dst; n != src; {
		e := g.edges[via[n]-1]
		path = append(path, e)
		n = g.index[e.From]
	}
	slices.Reverse(path)
	return path, nil
}
