// Command broken does not compile, for Build's error path.
package main

func main() {
	var n int = "not a number"
	_ = n
}
