fn main() {
    println!("fastcat");
}
