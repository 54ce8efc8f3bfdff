package dlq

// collapse keeps the first message of each source id, in order, and
// records the dead-letter ids of the later ones in its CopyIDs.
func collapse(msgs []Message) []Message {
	out := make([]Message, 0, len(msgs))
	first := map[string]int{} // source id → index in out
	for _, m := range msgs {
		if i, ok := first[m.SourceID]; ok {
			out[i].CopyIDs = append(out[i].CopyIDs, m.ID)
			continue
		}
		first[m.SourceID] = len(out)
		out = append(out, m)
	}
	return out
}
