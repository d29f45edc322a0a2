/** Unsupervised learning from x alone: clustering, dimensionality reduction, density estimation. */
export * from './kmeans';
export * from './pca';
export * from './density';
