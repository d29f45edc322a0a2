{
  "targets": [
    {
      "target_name": "genlab_native",
      "sources": ["src/genlab_native.cc"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fopenmp", "-ffp-contract=off", "-fno-math-errno"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
